import { request as httpRequest } from 'node:http';

export interface ServerSentEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface EventStreamResult {
  status: number;
  contentType: string | undefined;
  events: ServerSentEvent[];
  /** comment lines (heartbeats) seen */
  comments: number;
  /** true when the server ended the stream (not the reader's timeout) */
  closedByServer: boolean;
}

/**
 * Reads a Server-Sent Events stream until the server closes it or `timeoutMs` passes.
 * `onEvent` runs for each event as it arrives (to act mid-stream).
 */
export function readEventStream(
  url: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; onEvent?: (event: ServerSentEvent) => void },
): Promise<EventStreamResult> {
  return new Promise((resolve, reject) => {
    const events: ServerSentEvent[] = [];
    let comments = 0;
    let buffer = '';
    const req = httpRequest(
      url,
      { headers: { Accept: 'text/event-stream', ...headers } },
      (res) => {
        const timer = setTimeout(() => {
          req.destroy();
          finish(false);
        }, options.timeoutMs);
        const finish = (closedByServer: boolean) => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            events,
            comments,
            closedByServer,
          });
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: ServerSentEvent = { data: '' };
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments++;
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
              else if (line.startsWith('id:')) event.id = line.slice(3).trim();
              else if (line.startsWith('event:')) event.event = line.slice(6).trim();
            }
            if (data.length === 0) continue;
            event.data = data.join('\n');
            events.push(event);
            options.onEvent?.(event);
          }
        });
        res.on('end', () => finish(true));
        res.on('error', () => finish(false));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
