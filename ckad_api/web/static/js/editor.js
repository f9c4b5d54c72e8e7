// A plain <textarea> made into a small YAML editor: monospace, no spellcheck, Tab and
// Shift+Tab indent by two spaces, Enter keeps the indentation (one level more after a
// `key:`), Ctrl/Cmd+Enter submits. Esc then Tab leaves the editor, so the keyboard is
// never trapped.

import { h } from './dom.js';

const INDENT = '  ';

function insert(area, text) {
  area.focus();
  // execCommand keeps the browser's own undo history; setRangeText is the fallback.
  if (!document.execCommand || !document.execCommand('insertText', false, text)) {
    area.setRangeText(text, area.selectionStart, area.selectionEnd, 'end');
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

function lineStart(value, index) {
  return value.lastIndexOf('\n', index - 1) + 1;
}

function shiftLines(area, outdent) {
  const { value, selectionStart, selectionEnd } = area;
  const start = lineStart(value, selectionStart);
  const endIndex = selectionEnd > selectionStart && value[selectionEnd - 1] === '\n' ? selectionEnd - 1 : selectionEnd;
  let end = value.indexOf('\n', endIndex);
  if (end === -1) end = value.length;
  const lines = value.slice(start, end).split('\n');
  const changed = lines.map((line) => {
    if (!outdent) return INDENT + line;
    return line.startsWith(INDENT) ? line.slice(2) : line.replace(/^ /, '');
  });
  area.setSelectionRange(start, end);
  insert(area, changed.join('\n'));
  area.setSelectionRange(start, start + changed.join('\n').length);
}

/**
 * Create the editor. options: {label, value, rows, onSubmit, describedBy}.
 * Returns the <textarea> (read `.value`).
 */
export function yamlEditor({ id, value = '', rows = 14, onSubmit, placeholder } = {}) {
  let escaped = false;
  const area = h('textarea', {
    id,
    class: 'code-editor',
    rows,
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    autocorrect: 'off',
    wrap: 'off',
    placeholder,
  });
  area.value = value;
  area.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      escaped = true;
      return;
    }
    if (event.key === 'Tab' && !escaped && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      const multiline = area.value.slice(area.selectionStart, area.selectionEnd).includes('\n');
      if (event.shiftKey || multiline) shiftLines(area, event.shiftKey);
      else insert(area, INDENT);
      return;
    }
    escaped = false;
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (onSubmit) onSubmit();
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey) {
      const { value: text, selectionStart } = area;
      const line = text.slice(lineStart(text, selectionStart), selectionStart);
      let indent = line.match(/^\s*/)[0];
      if (/^\s*- /.test(line)) indent += INDENT; // continue the list item's mapping
      if (/:\s*$/.test(line)) indent += INDENT; // a key that opens a block
      event.preventDefault();
      insert(area, `\n${indent}`);
    }
  });
  area.addEventListener('blur', () => {
    escaped = false;
  });
  return area;
}

export const EDITOR_HELP =
  'Tab indents by two spaces, Shift+Tab outdents, Ctrl+Enter submits; press Esc then Tab to leave the editor.';
