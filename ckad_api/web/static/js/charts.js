// Plain SVG charts drawn at the container's real width (so text stays readable on a
// phone), redrawn when that width changes. Each chart is an image with a text summary.

import { add, fill, h, s } from './dom.js';

const CHAR_WIDTH = 0.56; // average glyph width per font-size unit, for wrapping labels
const BOLD_CHAR_WIDTH = 0.63;

/** Redraw `draw(width)` into `container` now and whenever its width changes. */
function responsive(container, draw) {
  let lastWidth = -1;
  const render = () => {
    const width = Math.floor(container.clientWidth);
    if (width <= 0 || width === lastWidth) return;
    lastWidth = width;
    fill(container, draw(width));
  };
  render();
  if ('ResizeObserver' in window) {
    const observer = new ResizeObserver(() => {
      if (!container.isConnected) observer.disconnect();
      else render();
    });
    observer.observe(container);
  }
  requestAnimationFrame(render);
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function wrap(text, maxChars) {
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = '';
  for (const word of words) {
    if (line && (line + ' ' + word).length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * A vertical bar chart of counts per day.
 * points: [{label, short, value}] where `short` is the axis label (e.g. "3 Dec").
 */
export function dayBars(container, { points, title, summary, empty, barClass = 'bar' }) {
  container.classList.add('chart');
  responsive(container, (width) => {
    const height = width < 480 ? 170 : 200;
    const m = { top: 12, right: 8, bottom: 26, left: 34 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
    const slot = plotW / Math.max(points.length, 1);
    const barW = Math.max(2, Math.min(28, slot * 0.72));
    const svg = s(
      'svg',
      {
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': `${title}. ${summary}`,
      },
      s('title', null, title),
      s('desc', null, summary),
    );
    for (const tick of [0, max / 2, max]) {
      const y = m.top + plotH - (tick / max) * plotH;
      add(svg,
        s('line', { x1: m.left, x2: width - m.right, y1: y, y2: y, class: 'grid' }),
        s('text', { x: m.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(tick)),
      );
    }
    const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotW / 52))));
    points.forEach((p, i) => {
      const x = m.left + slot * i + (slot - barW) / 2;
      const barH = (p.value / max) * plotH;
      if (p.value > 0) {
        add(svg,
          s(
            'rect',
            { x, y: m.top + plotH - barH, width: barW, height: barH, rx: 2, class: barClass },
            s('title', null, `${p.label}: ${p.value}`),
          ),
        );
      }
      if (i % every === 0) {
        add(svg,
          s(
            'text',
            { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' },
            p.short,
          ),
        );
      }
    });
    if (points.every((p) => p.value === 0) && empty) {
      add(svg,
        s(
          'text',
          { x: m.left + plotW / 2, y: m.top + plotH / 2, 'text-anchor': 'middle', class: 'empty' },
          empty,
        ),
      );
    }
    return svg;
  });
}

/**
 * Horizontal bars of mastery: one group per exam domain, one thinner bar per competency.
 * domains: [{title, weight, score, seen, questions, mastered, competencies: [...]}]
 */
export function masteryBars(container, { domains, title, summary }) {
  container.classList.add('chart');
  responsive(container, (width) => {
    const pctW = 46;
    const barX = 0;
    const barW = Math.max(60, width - pctW - 4);
    const rows = [];
    let y = 4;
    for (const d of domains) {
      const weight = d.weight ? ` · ${d.weight}% of the exam` : ' · not weighted';
      const lines = wrap(`${d.title}${weight}`, Math.floor(width / (15 * BOLD_CHAR_WIDTH)));
      rows.push({ kind: 'domain', item: d, y, lines });
      y += lines.length * 19 + 14 + 14;
      for (const c of d.competencies) {
        const cl = wrap(c.title, Math.floor((width - 12) / (13 * CHAR_WIDTH)));
        rows.push({ kind: 'competency', item: c, y, lines: cl });
        y += cl.length * 16 + 10 + 12;
      }
      y += 10;
    }
    const height = y;
    const svg = s(
      'svg',
      {
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': `${title}. ${summary}`,
      },
      s('title', null, title),
      s('desc', null, summary),
    );
    for (const row of rows) {
      const domain = row.kind === 'domain';
      const lineH = domain ? 19 : 16;
      const indent = domain ? 0 : 12;
      const x = barX + indent;
      const w = barW - indent;
      const item = row.item;
      const text = s('text', { x, y: row.y + lineH - 4, class: domain ? 'label strong' : 'label' });
      row.lines.forEach((line, k) => {
        add(text, s('tspan', { x, dy: k === 0 ? 0 : lineH }, line));
      });
      const barY = row.y + row.lines.length * lineH + 2;
      const barH = domain ? 12 : 8;
      const pct = Math.round(item.score * 100);
      const detail = `${pct}% expected recall · ${item.seen} of ${item.questions} seen · ${item.mastered} mastered`;
      add(svg,
        text,
        s('rect', { x, y: barY, width: w, height: barH, rx: barH / 2, class: 'track' }),
        s(
          'rect',
          {
            x,
            y: barY,
            width: Math.max(item.score > 0 ? barH : 0, w * item.score),
            height: barH,
            rx: barH / 2,
            class: domain ? 'bar' : 'bar soft',
          },
          s('title', null, `${item.title}: ${detail}`),
        ),
        s(
          'text',
          { x: width - 2, y: barY + barH - 1, 'text-anchor': 'end', class: domain ? 'value strong' : 'value' },
          `${pct}%`,
        ),
      );
    }
    return svg;
  });
}

/** A small legend line under a chart. */
export function caption(text) {
  return h('p', { class: 'chart-caption' }, text);
}
