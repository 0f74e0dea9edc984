import { contentDisposition } from './content-disposition';

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact name RFC 5987-encoded', () => {
    const header = contentDisposition('회의 "메모" (1).pdf');
    expect(header).toBe(
      `attachment; filename="__ ____ (1).pdf"; filename*=UTF-8''%ED%9A%8C%EC%9D%98%20%22%EB%A9%94%EB%AA%A8%22%20%281%29.pdf`,
    );
    expect(decodeURIComponent(header.split("UTF-8''")[1])).toBe('회의 "메모" (1).pdf');
  });

  it('never lets a quote, backslash or line break out of the quoted form', () => {
    const header = contentDisposition('a"b\\c\r\nX-Injected: 1.txt');
    expect(header).not.toMatch(/[\r\n]/);
    const quoted = /filename="([^"]*)"/.exec(header)?.[1];
    expect(quoted).toBe('a_b_c__X-Injected: 1.txt');
    expect(header).toContain("filename*=UTF-8''a%22b%5Cc%0D%0AX-Injected%3A%201.txt");
  });

  it('keeps plain names readable', () => {
    expect(contentDisposition('report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
  });
});
