import * as mammoth from 'mammoth';
import { CorruptDocumentError } from '../pipeline-errors';
import { htmlToText, type HtmlText } from './html-extractor';

/**
 * DOCX through mammoth's semantic HTML (it maps Word's Heading styles to h1–h6), then
 * the HTML extractor, so headings come out as `#` lines like every other format.
 */
export async function docxToText(bytes: Uint8Array): Promise<HtmlText> {
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        // Images carry no text; skip decoding them into base64 data URIs.
        convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
        // An uploaded document must never make the server read files it links to.
        externalFileAccess: false,
      },
    );
    html = result.value;
  } catch (err) {
    throw new CorruptDocumentError(
      'This Word document (DOCX) could not be read: the file is damaged or not a real DOCX. Save it again from Word and upload it once more.',
      { cause: err },
    );
  }
  return htmlToText(html);
}
