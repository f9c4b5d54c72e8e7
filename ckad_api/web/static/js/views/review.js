// The review session. Every question type gets its own input: choice buttons with
// number keys, a kubectl command line, a YAML editor, a flashcard to reveal and rate.
//
// Rating: an answer is recorded at once with the rating the grader gives (Again when
// wrong, Good or Hard when right). The result shows the four rating buttons with the
// interval each would give, the used one pressed. Choosing another (lower, or Easy on
// a right answer) undoes the review and records it again with that rating, so the
// schedule always matches the button that is pressed. Flashcards are revealed with a
// practice call (nothing recorded) and recorded when the learner rates them.

import { get, post, qs } from '../api.js';
import { add, clear, fill, h, interval, nextId, plural, typing } from '../dom.js';
import { EDITOR_HELP, yamlEditor } from '../editor.js';
import { inline, markdown } from '../md.js';
import { loading, messageSlot, pageTitle, problemBox, QUESTION_TYPES, RATINGS } from '../ui.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function expectedView(question, expected) {
  if (expected === null || expected === undefined || expected === '') return null;
  let body;
  if (typeof expected === 'boolean') body = h('p', null, expected ? 'True' : 'False');
  else if (Array.isArray(expected)) body = h('ul', null, expected.map((e) => h('li', { html: inline(String(e)) })));
  else if (question.type === 'kubectl') body = h('pre', { class: 'cmd' }, h('code', null, String(expected)));
  else if (question.type === 'flashcard') body = h('div', { class: 'prose', html: markdown(String(expected)) });
  else if (question.type === 'manifest') body = h('div', { class: 'prose', html: markdown(String(expected)) });
  else body = h('p', { html: inline(String(expected)) });
  return h('div', { class: 'expected' }, h('h3', null, question.type === 'flashcard' ? 'Answer' : 'Expected answer'), body);
}

export async function render(page, ctx) {
  const mode = ctx.query.get('mode') === 'practice' ? 'practice' : 'review';
  const chapter = ctx.query.get('chapter') || '';
  const competency = ctx.query.get('competency') || '';
  const practice = mode === 'practice';

  const session = { queue: [], index: 0, undo: [], reviewed: 0, keys: null };
  const setHash = (changes) => {
    const params = new URLSearchParams({ mode, chapter, competency, ...changes });
    for (const [k, v] of [...params]) if (!v || (k === 'mode' && v === 'review')) params.delete(k);
    const text = params.toString();
    location.hash = `#/review${text ? `?${text}` : ''}`;
  };

  // --- toolbar: mode, chapter filter, progress, undo ---------------------------------
  const modeName = `mode-${nextId()}`;
  const radio = (value, label, hint) =>
    h('label', { class: 'radio' },
      h('input', { type: 'radio', name: modeName, value, checked: mode === value, onchange: () => setHash({ mode: value }) }),
      h('span', null, label, h('span', { class: 'hint' }, ` ${hint}`)),
    );
  const chapterSelect = h('select', { id: 'review-chapter', onchange: (e) => setHash({ chapter: e.target.value, competency: '' }) },
    h('option', { value: '' }, 'All chapters'));
  const counter = h('p', { class: 'counter', role: 'status', 'aria-live': 'polite' });
  const undoButton = h('button', { type: 'button', class: 'secondary', disabled: true, 'aria-keyshortcuts': 'u', onclick: () => undoLast() }, 'Undo last answer');
  add(page,
    pageTitle(practice ? 'Practice' : 'Review', practice ? 'Answers are graded and explained; nothing is recorded.' : 'Cards due now, then new cards up to your daily limit.'),
    h('div', { class: 'toolbar' },
      h('fieldset', { class: 'modes' }, h('legend', null, 'Mode'),
        radio('review', 'Review', '(schedules cards)'),
        radio('practice', 'Practice', '(records nothing)'),
      ),
      h('div', { class: 'field' }, h('label', { for: 'review-chapter' }, 'Chapter'), chapterSelect),
      practice ? null : undoButton,
      counter,
    ),
  );
  if (competency) {
    add(page, h('p', { class: 'meta' }, `Only questions on competency `, h('code', null, competency), '. ',
      h('a', { href: '#/review', onclick: (e) => { e.preventDefault(); setHash({ competency: '' }); } }, 'Show all')));
  }
  const stage = h('div', { class: 'stage' });
  const slot = messageSlot();
  add(page, slot.el, stage);

  get('/chapters').then((list) => {
    for (const c of list.items) add(chapterSelect, h('option', { value: c.id, selected: c.id === chapter }, `${c.number}. ${c.title}`));
  }).catch(() => {});

  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event)) return;
    if (event.key === 'u' && !practice && session.undo.length && !undoButton.disabled) {
      event.preventDefault();
      undoLast();
      return;
    }
    const handler = session.keys?.(event);
    if (handler) {
      event.preventDefault();
      handler();
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));

  const updateCounter = () => {
    const left = session.queue.length - session.index;
    counter.textContent = left > 0 ? `Card ${session.index + 1} of ${session.queue.length}` : '';
    undoButton.disabled = session.undo.length === 0;
  };

  async function load() {
    fill(stage, loading('Loading due cards…'));
    const due = await get(`/reviews/due${qs({ limit: 50, chapter, competency })}`);
    session.queue = due.items;
    session.index = 0;
    show();
  }

  function show() {
    updateCounter();
    const item = session.queue[session.index];
    if (!item) {
      done();
      return;
    }
    showQuestion(item);
  }

  async function advance() {
    session.index += 1;
    slot.clear();
    if (session.index < session.queue.length) {
      show();
      return;
    }
    if (practice || !ctx.alive()) {
      done();
      return;
    }
    await load(); // new learning steps may be due again already
  }

  function done() {
    session.keys = null;
    updateCounter();
    fill(stage,
      h('section', { class: 'card done', 'aria-labelledby': 'done-title' },
        h('h2', { id: 'done-title', tabindex: '-1' }, practice ? 'Practice round finished' : 'Nothing more is due right now'),
        h('p', null, session.reviewed ? `You answered ${plural(session.reviewed, 'card')} in this session.` : 'Come back later, or practise without touching your schedule.'),
        h('div', { class: 'actions' },
          h('a', { class: 'button primary', href: '#/' }, 'Dashboard'),
          practice
            ? h('button', { type: 'button', onclick: () => load() }, 'Practise again')
            : h('button', { type: 'button', onclick: () => setHash({ mode: 'practice' }) }, 'Practise'),
          h('a', { class: 'button', href: '#/course' }, 'Read the course'),
        ),
      ),
    );
    stage.querySelector('h2').focus();
  }

  // --- a question ---------------------------------------------------------------------
  function showQuestion(item) {
    const q = item.question;
    const started = Date.now();
    const headingId = nextId('q');
    const inputArea = h('div', { class: 'answer-area' });
    const result = h('div', { class: 'result' });
    const card = h('article', { class: 'qcard', tabindex: '-1', 'aria-labelledby': headingId, dataset: { type: q.type, questionId: q.id } },
      h('div', { class: 'qmeta' },
        h('span', { class: 'badge' }, QUESTION_TYPES[q.type] || q.type),
        item.new ? h('span', { class: 'badge new' }, 'new') : null,
        h('span', { class: 'meta' }, `difficulty ${q.difficulty} · about ${q.expected_seconds}s`),
      ),
      h('h2', { id: headingId, class: 'visually-hidden' }, 'Question'),
      h('div', { class: 'prompt prose', html: markdown(q.prompt) }),
      inputArea,
      result,
    );
    fill(stage, card);
    const skip = h('button', { type: 'button', class: 'secondary', onclick: () => advance() }, 'Skip');
    let controls = [];
    const lock = (locked) => {
      for (const c of controls) c.disabled = locked;
    };

    async function submit(answer) {
      const body = { answer, elapsed_ms: Math.min(Date.now() - started, 86400000), version: item.card.version, mode };
      lock(true);
      slot.clear();
      try {
        const res = await post(`/reviews/${encodeURIComponent(q.id)}/answer`, body);
        if (!practice) {
          session.undo.push({ item, body, result: res });
          session.reviewed += 1;
        }
        showResult(item, card, result, body, res);
      } catch (err) {
        if (err.status === 409 && err.problem.current) item.card = err.problem.current;
        slot.error(err);
        lock(false);
      }
    }

    // Text answers start in their field; for buttons the card takes focus, so number keys
    // and Enter work at once and Tab reaches the first choice.
    const focusFirst = () => {
      const field = inputArea.querySelector('input, textarea');
      if (field) field.focus();
      else card.focus();
    };

    if (q.type === 'single_choice' || q.type === 'multi_choice') {
      const multi = q.type === 'multi_choice';
      const picked = new Set();
      const buttons = q.choices.map((choice, i) => {
        const b = h('button', {
          type: 'button',
          class: 'choice',
          'aria-pressed': multi ? 'false' : null,
          'aria-keyshortcuts': i < 9 ? String(i + 1) : null,
          dataset: { index: i },
        },
        h('span', { class: 'key', 'aria-hidden': 'true' }, i < 9 ? String(i + 1) : LETTERS[i]),
        h('span', { class: 'choice-text', html: inline(choice) }),
        );
        b.addEventListener('click', () => {
          if (!multi) {
            submit(i);
            return;
          }
          if (picked.has(i)) picked.delete(i);
          else picked.add(i);
          b.setAttribute('aria-pressed', String(picked.has(i)));
        });
        return b;
      });
      const check = h('button', { type: 'button', class: 'primary', onclick: () => submit([...picked].sort((a, b) => a - b)) }, 'Check answer');
      controls = [...buttons, ...(multi ? [check] : []), skip];
      add(inputArea,
        h('p', { class: 'hint', id: `${headingId}-help` }, multi ? 'Pick every right choice (keys 1–9 toggle), then check (Enter).' : 'Pick one (or press its number).'),
        h('div', { class: 'choices', role: 'group', 'aria-label': 'Choices', 'aria-describedby': `${headingId}-help` }, buttons),
        h('div', { class: 'actions' }, multi ? check : null, skip),
      );
      session.keys = (event) => {
        const n = Number(event.key);
        if (n >= 1 && n <= Math.min(9, buttons.length) && !buttons[n - 1].disabled) return () => buttons[n - 1].click();
        if (multi && event.key === 'Enter' && !(event.target instanceof HTMLButtonElement) && !check.disabled) return () => check.click();
        return null;
      };
    } else if (q.type === 'true_false') {
      const t = h('button', { type: 'button', class: 'choice', 'aria-keyshortcuts': '1 t', onclick: () => submit(true) }, h('span', { class: 'key', 'aria-hidden': 'true' }, '1'), h('span', null, 'True'));
      const f = h('button', { type: 'button', class: 'choice', 'aria-keyshortcuts': '2 f', onclick: () => submit(false) }, h('span', { class: 'key', 'aria-hidden': 'true' }, '2'), h('span', null, 'False'));
      controls = [t, f, skip];
      add(inputArea,
        h('p', { class: 'hint' }, 'Press 1 or T for true, 2 or F for false.'),
        h('div', { class: 'choices two', role: 'group', 'aria-label': 'True or false' }, t, f),
        h('div', { class: 'actions' }, skip),
      );
      session.keys = (event) => {
        if (t.disabled) return null;
        if (event.key === '1' || event.key === 't') return () => t.click();
        if (event.key === '2' || event.key === 'f') return () => f.click();
        return null;
      };
    } else if (q.type === 'flashcard') {
      const reveal = h('button', { type: 'button', class: 'primary', 'aria-keyshortcuts': 'Space' }, 'Show answer');
      controls = [reveal, skip];
      add(inputArea, h('p', { class: 'hint' }, 'Recall the answer, then reveal it (Space) and rate yourself.'), h('div', { class: 'actions' }, reveal, skip));
      reveal.addEventListener('click', async () => {
        lock(true);
        slot.clear();
        const elapsed = Math.min(Date.now() - started, 86400000);
        try {
          // A practice call shows the back of the card and the intervals; nothing is written.
          const preview = await post(`/reviews/${encodeURIComponent(q.id)}/answer`, {
            rating: 'good', elapsed_ms: elapsed, version: item.card.version, mode: 'practice',
          });
          showFlashcardBack(item, card, result, preview, elapsed);
        } catch (err) {
          slot.error(err);
          lock(false);
        }
      });
      session.keys = (event) => (event.key === ' ' && !reveal.disabled ? () => reveal.click() : null);
    } else {
      // short_answer, kubectl, manifest (and any text answer a future type may take)
      let control;
      let help;
      const id = nextId('answer');
      if (q.type === 'manifest') {
        control = yamlEditor({ id, rows: 14, onSubmit: () => form.requestSubmit(), placeholder: 'apiVersion: v1\nkind: Pod\n…' });
        help = EDITOR_HELP;
      } else if (q.type === 'kubectl') {
        control = h('input', { id, type: 'text', class: 'mono', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', placeholder: 'kubectl …', enterkeyhint: 'send' });
        help = 'Type the command as you would in the exam terminal (k, short names and flags are fine); Enter checks it.';
      } else {
        control = h('input', { id, type: 'text', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', enterkeyhint: 'send' });
        help = 'Type a short answer; Enter checks it.';
      }
      const label = { manifest: 'Your manifest (YAML)', kubectl: 'Your kubectl command' }[q.type] || 'Your answer';
      const check = h('button', { type: 'submit', class: 'primary' }, 'Check answer');
      const wrapped = q.type === 'kubectl' ? h('div', { class: 'cmdline' }, h('span', { class: 'prompt-sign', 'aria-hidden': 'true' }, '$'), control) : control;
      const form = h('form', { class: 'stack' },
        h('div', { class: 'field' }, h('label', { for: id }, label), wrapped, h('p', { class: 'hint', id: `${id}-hint` }, help)),
        h('div', { class: 'actions' }, check, skip),
      );
      control.setAttribute('aria-describedby', `${id}-hint`);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const value = control.value;
        if (!value.trim()) {
          slot.error({ title: 'Empty answer', detail: 'write an answer first, or skip the question' });
          control.focus();
          return;
        }
        submit(value);
      });
      controls = [control, check, skip];
      add(inputArea, form);
      session.keys = null;
    }
    focusFirst();
  }

  // --- results ------------------------------------------------------------------------
  function markChoices(card, q, res) {
    const right = new Set([].concat(res.details?.answer ?? []));
    const picked = new Set([].concat(res.details?.picked ?? []));
    if (q.type === 'true_false') {
      const buttons = card.querySelectorAll('.choice');
      const truth = res.expected;
      buttons.forEach((b, i) => {
        const value = i === 0;
        if (value === truth) b.classList.add('right');
        else if (picked.has(value)) b.classList.add('wrong');
        b.disabled = true;
      });
      return;
    }
    for (const b of card.querySelectorAll('.choice')) {
      const i = Number(b.dataset.index);
      if (right.has(i)) b.classList.add('right');
      else if (picked.has(i)) b.classList.add('wrong');
      b.disabled = true;
    }
  }

  function ratingButtons(res, { chosen, allowed, onChoose }) {
    const group = h('div', { class: 'ratings', role: 'group', 'aria-label': 'Rating and next interval' });
    RATINGS.forEach(([value, label], i) => {
      const ok = allowed(value);
      add(group,
        h('button', {
          type: 'button',
          class: `rating ${value}`,
          'aria-pressed': chosen === undefined ? null : String(chosen === value),
          'aria-keyshortcuts': String(i + 1),
          disabled: !ok,
          title: ok ? null : 'A wrong answer is rated Again',
          dataset: { rating: value },
          onclick: () => onChoose(value),
        },
        h('span', { class: 'rating-label' }, h('span', { class: 'key', 'aria-hidden': 'true' }, String(i + 1)), ` ${label}`),
        h('span', { class: 'rating-interval' }, interval(res.intervals[value])),
        ),
      );
    });
    return group;
  }

  function showResult(item, card, area, body, res) {
    const q = item.question;
    card.querySelector('.answer-area .actions')?.remove();
    for (const el of card.querySelectorAll('.answer-area input, .answer-area textarea, .answer-area button')) el.disabled = true;
    if (['single_choice', 'multi_choice', 'true_false'].includes(q.type)) markChoices(card, q, res);
    const verdict = res.correct
      ? h('p', { class: 'verdict ok', role: 'status' }, '✓ Right')
      : h('p', { class: 'verdict bad', role: 'status' }, '✗ Not quite');
    const next = h('button', { type: 'button', class: 'primary', 'aria-keyshortcuts': 'Enter', onclick: () => advance() }, 'Next');
    const rateHelp = h('p', { class: 'hint' });
    let ratings = null;
    if (!practice) {
      rateHelp.textContent = res.correct
        ? `Recorded as ${res.rating}. Too easy, or a lucky guess? Pick another rating (keys 1–4).`
        : 'Recorded as Again: a wrong answer cannot be rated higher.';
      ratings = ratingButtons(res, {
        chosen: res.rating,
        allowed: (value) => res.correct || value === 'again',
        onChoose: (value) => value !== res.rating && rerate(item, card, area, body, res, value),
      });
    } else {
      rateHelp.textContent = 'Practice: nothing was recorded. In a review these ratings would schedule the card as shown.';
      ratings = ratingButtons(res, { chosen: undefined, allowed: () => false, onChoose: () => {} });
    }
    const undo = practice
      ? null
      : h('button', { type: 'button', class: 'secondary', 'aria-keyshortcuts': 'u', onclick: () => undoLast() }, 'Undo');
    fill(area,
      verdict,
      res.feedback?.length ? h('ul', { class: 'feedback' }, res.feedback.map((f) => h('li', { html: inline(f) }))) : null,
      res.correct ? null : expectedView(q, res.expected),
      res.explanation ? h('div', { class: 'explanation' }, h('h3', null, 'Why'), h('div', { class: 'prose', html: markdown(res.explanation) })) : null,
      h('p', { class: 'meta' }, h('a', { href: `#/read/${encodeURIComponent(q.section_id)}` }, 'Read the section this question comes from')),
      h('div', { class: 'rate' }, h('h3', null, practice ? 'Intervals' : 'Rating'), ratings, rateHelp),
      h('div', { class: 'actions' }, next, undo),
    );
    updateCounter();
    session.keys = (event) => {
      if (event.key === 'Enter' && !(event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement)) return () => next.click();
      const n = Number(event.key);
      if (!practice && n >= 1 && n <= 4) {
        const b = ratings.children[n - 1];
        if (!b.disabled) return () => b.click();
      }
      return null;
    };
    next.focus();
  }

  async function rerate(item, card, area, body, res, rating) {
    const q = item.question;
    for (const b of area.querySelectorAll('button')) b.disabled = true;
    slot.clear();
    const entry = session.undo.pop();
    let restored = null;
    try {
      restored = await post(`/reviews/${encodeURIComponent(q.id)}/undo`, { version: res.card.version });
      item.card = restored;
      const again = { ...body, rating, version: restored.version };
      const res2 = await post(`/reviews/${encodeURIComponent(q.id)}/answer`, again);
      session.undo.push({ item, body: again, result: res2 });
      showResult(item, card, area, again, res2);
      slot.notice(`Rated ${rating}: next review in ${interval(res2.intervals[rating])}.`);
    } catch (err) {
      if (restored) {
        // The review was undone but not recorded again: answer the card anew.
        session.reviewed -= 1;
        showQuestion(item);
      } else if (entry) {
        session.undo.push(entry);
        for (const b of area.querySelectorAll('button')) b.disabled = false;
      }
      slot.error(err);
      updateCounter();
    }
  }

  function showFlashcardBack(item, card, area, preview, elapsed) {
    const q = item.question;
    clear(card.querySelector('.answer-area'));
    const next = h('button', { type: 'button', class: 'primary', onclick: () => advance() }, 'Next');
    const rate = async (rating) => {
      for (const b of area.querySelectorAll('button')) b.disabled = true;
      slot.clear();
      const body = { rating, elapsed_ms: elapsed, version: item.card.version, mode: 'review' };
      try {
        const res = await post(`/reviews/${encodeURIComponent(q.id)}/answer`, body);
        session.undo.push({ item, body, result: res });
        session.reviewed += 1;
        await advance();
        slot.notice(`Flashcard rated ${rating}: next review in ${interval(res.intervals[rating])}.`);
      } catch (err) {
        if (err.status === 409 && err.problem.current) item.card = err.problem.current;
        slot.error(err);
        for (const b of area.querySelectorAll('button')) b.disabled = false;
      }
    };
    const ratings = practice
      ? ratingButtons(preview, { chosen: undefined, allowed: () => false, onChoose: () => {} })
      : ratingButtons(preview, { chosen: undefined, allowed: () => true, onChoose: rate });
    fill(area,
      expectedView(q, preview.expected),
      preview.explanation ? h('div', { class: 'explanation' }, h('h3', null, 'Why'), h('div', { class: 'prose', html: markdown(preview.explanation) })) : null,
      h('div', { class: 'rate' },
        h('h3', null, practice ? 'Intervals' : 'How well did you recall it?'),
        ratings,
        h('p', { class: 'hint' }, practice ? 'Practice: nothing is recorded.' : 'Keys 1–4 rate; each button shows when you would see the card again.'),
      ),
      practice ? h('div', { class: 'actions' }, next) : null,
    );
    session.keys = (event) => {
      const n = Number(event.key);
      if (!practice && n >= 1 && n <= 4 && !ratings.children[n - 1].disabled) return () => ratings.children[n - 1].click();
      if (practice && event.key === 'Enter' && !(event.target instanceof HTMLButtonElement)) return () => next.click();
      return null;
    };
    (practice ? next : ratings.children[2]).focus();
  }

  async function undoLast() {
    const entry = session.undo.pop();
    if (!entry) return;
    undoButton.disabled = true;
    slot.clear();
    try {
      const card = await post(`/reviews/${encodeURIComponent(entry.item.question.id)}/undo`, { version: entry.result.card.version });
      entry.item.card = card;
      session.reviewed -= 1;
      // Put the card back at the current position and answer it again.
      const current = session.queue.indexOf(entry.item);
      if (current !== -1 && current <= session.index) session.queue.splice(current, 1);
      if (current !== -1 && current < session.index) session.index -= 1;
      session.queue.splice(Math.min(session.index, session.queue.length), 0, entry.item);
      show();
      slot.notice('Undone: the card is back as it was. Answer it again.');
    } catch (err) {
      session.undo.push(entry);
      slot.error(err);
    }
    updateCounter();
  }

  try {
    await load();
  } catch (err) {
    fill(stage, problemBox(err));
  }
}
