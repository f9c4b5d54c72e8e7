// Labs: the list, then one lab: instructions, checks, hints on request, verification
// from pasted manifests or the live namespace, per-check results, attempts, solution.

import { get, post, qs } from '../api.js';
import { add, clear, fill, h, nextId, plural, swap } from '../dom.js';
import { EDITOR_HELP, yamlEditor } from '../editor.js';
import { inline } from '../md.js';
import { crumbs, dateTime, loading, messageSlot, pageTitle, problemBox, wrapTables } from '../ui.js';

const STATUS = {
  passed: ['✓', 'passed'],
  failed: ['✗', 'failed'],
  skipped: ['–', 'skipped'],
};

function difficulty(n) {
  return h('span', { class: 'meta', title: `difficulty ${n} of 3` }, `difficulty ${n}/3`);
}

export async function index(page) {
  add(page, pageTitle('Labs', 'Hands-on tasks graded against rubrics: paste your manifests, or let the tutor check your namespace.'));
  const status = loading();
  add(page, status);
  const labs = await get('/labs');
  swap(status,
    h('ul', { class: 'cards labs' },
      labs.items.map((lab) => {
        const state = lab.passed
          ? h('span', { class: 'badge ok' }, 'passed')
          : lab.attempts
            ? h('span', { class: 'badge' }, `best ${Math.round(lab.best_score)}%`)
            : h('span', { class: 'badge muted' }, 'not tried');
        return h('li', { class: 'card' },
          h('h2', null, h('a', { href: `#/lab/${encodeURIComponent(lab.id)}` }, lab.title)),
          h('p', null, lab.summary),
          h('p', { class: 'meta' }, state, ` ${plural(lab.check_count, 'check')} · `, difficulty(lab.difficulty), lab.attempts ? ` · ${plural(lab.attempts, 'attempt')}` : ''),
        );
      }),
    ),
  );
}

function checkList(checks) {
  return h('ol', { class: 'checks' },
    checks.map((c) => {
      const [icon, word] = STATUS[c.status] || ['?', c.status];
      return h('li', { class: `check ${c.status}`, dataset: { check: c.id } },
        h('span', { class: 'check-icon', 'aria-hidden': 'true' }, icon),
        h('div', null,
          h('p', { class: 'check-title' }, h('span', { class: 'visually-hidden' }, `${word}: `), c.title),
          c.message ? h('p', { class: 'check-message' }, c.message) : null,
          c.hint && c.status === 'failed' ? h('p', { class: 'check-hint' }, h('strong', null, 'Hint: '), c.hint) : null,
        ),
      );
    }),
  );
}

function attemptView(attempt) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of attempt.checks) counts[c.status] = (counts[c.status] || 0) + 1;
  return h('div', { class: 'attempt' },
    h('p', { class: `verdict ${attempt.passed ? 'ok' : 'bad'}` },
      attempt.passed ? '✓ Passed' : '✗ Not passed yet',
      h('span', { class: 'score' }, ` · score ${attempt.score}%`),
    ),
    h('p', { class: 'meta' },
      `${counts.passed} passed · ${counts.failed} failed · ${counts.skipped} skipped`,
      counts.skipped && attempt.source === 'manifests' ? ' (checks of the live cluster are skipped for pasted manifests)' : '',
    ),
    attempt.warnings?.length
      ? h('div', { class: 'warnings' }, h('p', null, h('strong', null, 'Warnings about the manifests:')), h('ul', null, attempt.warnings.map((w) => h('li', null, w))))
      : null,
    checkList(attempt.checks),
  );
}

export async function lab(page, ctx) {
  const id = ctx.params.id;
  const status = loading();
  add(page, status);
  const l = await get(`/labs/${encodeURIComponent(id)}`);
  const me = ctx.me;
  ctx.setTitle(l.title);
  const slot = messageSlot();
  const resultArea = h('div', { class: 'lab-result', 'aria-live': 'polite' });
  const attemptsArea = h('div');
  const solutionArea = h('div');
  const hintList = h('ol', { class: 'hints' });
  let shown = 0;
  const hintButton = h('button', { type: 'button', class: 'secondary' });
  const updateHintButton = () => {
    hintButton.textContent = shown < l.hints.length ? `Show a hint (${shown + 1} of ${l.hints.length})` : 'No more hints';
    hintButton.disabled = shown >= l.hints.length;
  };
  hintButton.addEventListener('click', () => {
    if (shown >= l.hints.length) return;
    add(hintList, h('li', { html: inline(l.hints[shown]) }));
    shown += 1;
    updateHintButton();
    hintList.lastElementChild.setAttribute('tabindex', '-1');
    hintList.lastElementChild.focus();
  });
  updateHintButton();

  const editorId = nextId('manifests');
  const editor = yamlEditor({ id: editorId, value: l.start || '', rows: 16, onSubmit: () => manifestForm.requestSubmit(), placeholder: 'Paste one or more YAML documents, separated by ---' });
  editor.setAttribute('aria-describedby', `${editorId}-hint`);
  const verifyButton = h('button', { type: 'submit', class: 'primary' }, 'Verify manifests');
  const manifestForm = h('form', { class: 'stack' },
    h('div', { class: 'field' },
      h('label', { for: editorId }, 'Your manifests (YAML)'),
      editor,
      h('p', { class: 'hint', id: `${editorId}-hint` }, EDITOR_HELP),
    ),
    h('div', { class: 'actions' }, verifyButton),
  );
  const clusterButton = h('button', { type: 'button' }, 'Check my namespace');

  async function verify(body, button) {
    slot.clear();
    button.disabled = true;
    fill(resultArea, loading('Checking…'));
    try {
      const attempt = await post(`/labs/${encodeURIComponent(id)}/verify`, body);
      fill(resultArea, h('h3', { tabindex: '-1' }, 'Result'), attemptView(attempt));
      resultArea.querySelector('h3').focus();
      await refreshAttempts();
    } catch (err) {
      clear(resultArea);
      slot.error(err);
    } finally {
      button.disabled = false;
    }
  }
  manifestForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!editor.value.trim()) {
      slot.error({ title: 'Nothing to check', detail: 'paste your manifests first' });
      editor.focus();
      return;
    }
    verify({ source: 'manifests', manifests: editor.value }, verifyButton);
  });
  clusterButton.addEventListener('click', () => verify({ source: 'cluster' }, clusterButton));

  async function refreshAttempts() {
    const attempts = await get(`/labs/${encodeURIComponent(id)}/attempts${qs({ limit: 20 })}`);
    clear(attemptsArea);
    if (!attempts.items.length) {
      add(attemptsArea, h('p', { class: 'meta' }, 'No attempts yet.'));
    } else {
      add(attemptsArea,
        h('ol', { class: 'attempts', reversed: true },
          attempts.items.map((a) =>
            h('li', null,
              h('details', null,
                h('summary', null,
                  h('span', { class: `badge ${a.passed ? 'ok' : ''}` }, a.passed ? 'passed' : `${a.score}%`),
                  ` ${dateTime(a.created_at)} · ${a.source === 'cluster' ? `namespace ${a.namespace}` : 'pasted manifests'}`,
                ),
                checkList(a.checks),
              ),
            ),
          ),
        ),
      );
    }
    renderSolution(attempts.items.length > 0);
  }

  function renderSolution(open) {
    clear(solutionArea);
    if (!open) {
      add(solutionArea, h('p', { class: 'meta' }, 'The reference solution opens after your first attempt.'));
      return;
    }
    const button = h('button', { type: 'button', class: 'secondary' }, 'Show the solution');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const solution = await get(`/labs/${encodeURIComponent(id)}/solution`);
        swap(button, h('pre', { class: 'solution', tabindex: '0' }, h('code', null, solution.solution)));
      } catch (err) {
        button.disabled = false;
        add(solutionArea, problemBox(err));
      }
    });
    add(solutionArea, button);
  }

  swap(status,
    crumbs([['Labs', '#/labs'], [l.title]]),
    pageTitle(l.title, l.summary),
    h('p', { class: 'meta' }, difficulty(l.difficulty), ' · chapter ', h('a', { href: `#/chapter/${encodeURIComponent(l.chapter_id)}` }, l.chapter_id)),
    h('section', { class: 'card', 'aria-labelledby': 'task-title' }, h('h2', { id: 'task-title' }, 'Task'), wrapTables(h('div', { class: 'prose', html: l.instructions_html }))),
    h('section', { class: 'card', 'aria-labelledby': 'checks-title' },
      h('h2', { id: 'checks-title' }, 'What is checked'),
      h('ol', { class: 'plain-checks' }, l.checks.map((c) => h('li', null, c.title, c.live ? h('span', { class: 'badge muted' }, 'live cluster') : null))),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'hints-title' }, h('h2', { id: 'hints-title' }, 'Hints'), hintList, hintButton),
    h('section', { class: 'card', 'aria-labelledby': 'verify-title' },
      h('h2', { id: 'verify-title' }, 'Verify'),
      manifestForm,
      h('div', { class: 'or' },
        h('p', null, 'Or grade the objects you created in your namespace ', h('code', null, me.namespace), ' (needs a cluster configured on the server).'),
        clusterButton,
      ),
      slot.el,
      resultArea,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'attempts-title' }, h('h2', { id: 'attempts-title' }, 'Your attempts'), attemptsArea),
    h('section', { class: 'card', 'aria-labelledby': 'solution-title' }, h('h2', { id: 'solution-title' }, 'Solution'), solutionArea),
  );
  await refreshAttempts();
}
