// A small, safe Markdown renderer for prompts, explanations and the tutor's replies.
// Every piece of text is HTML-escaped first; only the constructs below produce tags:
// paragraphs, headings, lists (nested), block quotes, fenced code, `code`, **bold**,
// _italic_ / *italic*, and links to http(s) or to the app itself.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

function emphasis(text) {
  // `text` is already escaped.
  return text
    .replace(/\[([^\]]+)\]\(((?:https?:\/\/|#\/|\/)[^\s)]*)\)/g, (_, label, url) => {
      const external = /^https?:/.test(url);
      return `<a href="${url}"${external ? ' rel="noopener noreferrer"' : ''}>${label}</a>`;
    })
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/__(?=\S)([\s\S]*?\S)__/g, '<strong>$1</strong>')
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, '$1<em>$2</em>');
}

/** Inline Markdown to HTML (code spans are cut out first, so `**`x`**` works). */
export function inline(text) {
  const codes = [];
  const marked = String(text)
    .replace(/\u0000/g, '')
    .replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, ticks, body) => {
      codes.push(`<code>${escapeHtml(body.replace(/^ (.*) $/, '$1'))}</code>`);
      return `\u0000${codes.length - 1}\u0000`;
    });
  return emphasis(escapeHtml(marked)).replace(/\u0000(\d+)\u0000/g, (_, n) => codes[Number(n)]);
}

const FENCE = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const QUOTE = /^\s{0,3}>/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const indentOf = (line) => line.match(/^\s*/)[0].length;

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || QUOTE.test(line) || ITEM.test(line);
}

// With `breaks`, a short line ends with a hard break (the tutor writes one fact per line),
// while a long one is taken as prose wrapped in the source and joined with a space.
const SHORT_LINE = 60;

function joinLines(lines, breaks) {
  if (!breaks) return inline(lines.join(' '));
  let text = '';
  lines.forEach((line, i) => {
    if (i > 0) text += lines[i - 1].trim().length < SHORT_LINE ? '\n' : ' ';
    text += line.trim();
  });
  return inline(text).replace(/\n/g, '<br>');
}

function renderList(lines, start, breaks) {
  const first = lines[start].match(ITEM);
  const base = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = line.match(ITEM);
    if (m && m[1].length === base && /\d/.test(m[2]) === ordered) {
      items.push({ content: [m[3]], pad: m[1].length + m[2].length + 1 });
      i += 1;
    } else if (line.trim() && indentOf(line) > base && items.length) {
      const item = items[items.length - 1];
      item.content.push(line.slice(Math.min(indentOf(line), item.pad)));
      i += 1;
    } else if (!line.trim() && i + 1 < lines.length && indentOf(lines[i + 1]) > base && items.length) {
      items[items.length - 1].content.push('');
      i += 1;
    } else {
      break;
    }
  }
  const tag = ordered ? 'ol' : 'ul';
  const startNum = ordered ? parseInt(first[2], 10) : 1;
  const body = items
    .map((item) => {
      // A tight item: its first lines are inline text, a nested block follows.
      const split = item.content.findIndex((l, k) => k > 0 && (startsBlock(l) || !l.trim()));
      const head = split === -1 ? item.content : item.content.slice(0, split);
      const rest = split === -1 ? [] : item.content.slice(split);
      return `<li>${joinLines(head, breaks)}${blocks(rest, breaks)}</li>`;
    })
    .join('');
  const startAttr = ordered && startNum !== 1 ? ` start="${startNum}"` : '';
  return { html: `<${tag}${startAttr}>${body}</${tag}>`, next: i };
}

function blocks(lines, breaks) {
  let html = '';
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    let m = line.match(FENCE);
    if (m) {
      const fence = m[1];
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i += 1;
      const lang = m[2] ? ` class="language-${escapeHtml(m[2])}"` : '';
      html += `<pre><code${lang}>${escapeHtml(body.join('\n'))}</code></pre>`;
      continue;
    }
    m = line.match(HEADING);
    if (m) {
      const level = Math.min(m[1].length + 2, 6);
      html += `<h${level}>${inline(m[2])}</h${level}>`;
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        inner.push(lines[i].replace(/^\s{0,3}> ?/, ''));
        i += 1;
      }
      html += `<blockquote>${blocks(inner, breaks)}</blockquote>`;
      continue;
    }
    if (ITEM.test(line)) {
      const list = renderList(lines, i, breaks);
      html += list.html;
      i = list.next;
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !(para.length && startsBlock(lines[i]))) {
      para.push(lines[i].trim());
      i += 1;
    }
    html += `<p>${joinLines(para, breaks)}</p>`;
  }
  return html;
}

/**
 * Markdown to HTML. `breaks: true` keeps single line breaks (the tutor writes
 * line-oriented replies); course prompts are wrapped prose, so they are joined.
 */
export function markdown(source, { breaks = false } = {}) {
  const lines = String(source ?? '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  return blocks(lines, breaks);
}
