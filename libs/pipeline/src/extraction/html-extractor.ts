import { Parser } from 'htmlparser2';
import { normaliseText } from './text-decoder';

export interface HtmlText {
  text: string;
  title?: string;
}

// Page furniture and non-content: nothing inside reaches the index.
const DROPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'aside',
  'svg',
  'iframe',
  'object',
  'canvas',
  'button',
  'select',
  'form',
]);
// Site header and footer are dropped, but an article's own header holds its title.
const DROPPED_OUTSIDE_ARTICLE = new Set(['header', 'footer']);
const VOID = new Set(['br', 'hr', 'img', 'meta', 'link', 'input', 'wbr', 'source', 'col', 'area']);
const PARAGRAPH_BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'blockquote',
  'pre',
  'table',
  'ul',
  'ol',
  'dl',
  'figure',
  'figcaption',
  'details',
  'summary',
  'address',
  'header',
  'footer',
  'hr',
]);
const LINE_BLOCKS = new Set(['li', 'tr', 'dt', 'dd', 'br', 'caption']);
const HEADINGS: Record<string, string> = {
  h1: '#',
  h2: '##',
  h3: '###',
  h4: '####',
  h5: '#####',
  h6: '######',
};

const enum Break {
  None = 0,
  Space = 1,
  Line = 2,
  Paragraph = 3,
}

/**
 * HTML to text with a real parser: page furniture (scripts, styles, navigation, site
 * header and footer, asides) is dropped, headings become `#` lines and block elements
 * become line or paragraph breaks, so the chunker sees the document's structure.
 */
export function htmlToText(html: string): HtmlText {
  const out: string[] = [];
  const open: string[] = [];
  let dropDepth = 0;
  let preDepth = 0;
  let articleDepth = 0;
  let inTitle = false;
  let title = '';
  let firstHeading: string | undefined;
  let headingText: string[] | undefined;
  let pending: Break = Break.None;
  let atStart = true;

  const requestBreak = (b: Break) => {
    if (b > pending) pending = b;
  };
  const emit = (s: string) => {
    if (!atStart) {
      if (pending === Break.Paragraph) out.push('\n\n');
      else if (pending === Break.Line) out.push('\n');
      else if (pending === Break.Space) out.push(' ');
    }
    pending = Break.None;
    atStart = false;
    out.push(s);
    headingText?.push(s);
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (!VOID.has(name)) open.push(name);
        if (dropDepth > 0) {
          if (!VOID.has(name)) dropDepth++;
          return;
        }
        if (DROPPED.has(name) || (DROPPED_OUTSIDE_ARTICLE.has(name) && articleDepth === 0)) {
          dropDepth = 1;
          return;
        }
        if (name === 'title') inTitle = true;
        if (name === 'article' || name === 'main') articleDepth++;
        if (name === 'pre') preDepth++;
        const marker = HEADINGS[name];
        if (marker) {
          requestBreak(Break.Paragraph);
          emit(`${marker} `);
          pending = Break.None;
          headingText = [];
        } else if (PARAGRAPH_BLOCKS.has(name)) {
          requestBreak(Break.Paragraph);
        } else if (LINE_BLOCKS.has(name)) {
          requestBreak(Break.Line);
          if (name === 'li') {
            emit('- ');
            pending = Break.None;
          }
        } else if (name === 'td' || name === 'th') {
          requestBreak(Break.Space);
        }
      },
      onclosetag(name) {
        if (VOID.has(name)) return;
        // htmlparser2 closes implied tags for us; keep our stack in step with it.
        const idx = open.lastIndexOf(name);
        if (idx >= 0) open.length = idx;
        if (dropDepth > 0) {
          dropDepth--;
          return;
        }
        if (name === 'title') inTitle = false;
        if (name === 'article' || name === 'main') articleDepth = Math.max(0, articleDepth - 1);
        if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
        if (HEADINGS[name]) {
          if (headingText && firstHeading === undefined) {
            firstHeading = headingText.join('').trim() || undefined;
          }
          headingText = undefined;
          requestBreak(Break.Paragraph);
        } else if (PARAGRAPH_BLOCKS.has(name)) {
          requestBreak(Break.Paragraph);
        } else if (LINE_BLOCKS.has(name)) {
          requestBreak(Break.Line);
        }
      },
      ontext(raw) {
        if (dropDepth > 0) return;
        if (inTitle) {
          title += raw;
          return;
        }
        if (preDepth > 0) {
          const lines = raw.split('\n');
          lines.forEach((line, i) => {
            if (i > 0) requestBreak(Break.Line);
            if (line.length > 0) emit(line);
          });
          return;
        }
        const leading = /^\s/.test(raw);
        const trailing = /\s$/.test(raw);
        const collapsed = raw.replace(/\s+/g, ' ').trim();
        if (collapsed.length === 0) {
          if (raw.length > 0) requestBreak(Break.Space);
          return;
        }
        if (leading) requestBreak(Break.Space);
        emit(collapsed);
        if (trailing) requestBreak(Break.Space);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();

  const text = normaliseText(out.join('')).trim();
  const cleanTitle = title.replace(/\s+/g, ' ').trim();
  return { text, title: cleanTitle || firstHeading };
}
