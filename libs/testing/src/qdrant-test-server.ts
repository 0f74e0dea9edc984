/**
 * Starts the Qdrant emulator for the integration tier unless QDRANT_URL points at a
 * real Qdrant. The URL is handed to test files through process.env.QDRANT_URL.
 */
export async function startTestQdrant(): Promise<void> {
  // filled in with the emulator
}

export async function stopTestQdrant(): Promise<void> {
  // filled in with the emulator
}
