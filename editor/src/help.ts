// Node help is markdown from the node specs (and tab or node info written
// by users, which may come from an imported flow): rendered with marked,
// with raw HTML shown as text and links limited to safe schemes.
import { Marked } from "marked";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const safeURL = (u: string) => /^(https?:|mailto:|#|\/|\.\/|[^:]*$)/i.test(u.trim());

const md = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }) {
      return escape(text);
    },
    link({ href, title, tokens }) {
      const body = this.parser.parseInline(tokens);
      if (!safeURL(href)) return body;
      return `<a href="${escape(href)}" target="_blank" rel="noopener noreferrer"${title ? ` title="${escape(title)}"` : ""}>${body}</a>`;
    },
    image({ href, text }) {
      return safeURL(href) && /^https?:/i.test(href) ? `<img src="${escape(href)}" alt="${escape(text)}">` : escape(text);
    },
  },
});

export function renderMarkdown(src: string): string {
  return md.parse(src ?? "", { async: false }) as string;
}
