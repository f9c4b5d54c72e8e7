// The tutor chat: replies in Markdown with citations into the course, suggested
// actions as buttons, and the tutor's questions answerable in place.

import { get, post, qs } from '../api.js';
import { add, clear, h, nextId, swap } from '../dom.js';
import { inline, markdown } from '../md.js';
import { pageTitle, problemBox } from '../ui.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const storageKey = (me) => `ckad.conversation.${me.id}`;

function remember(me, id) {
  try {
    if (id) localStorage.setItem(storageKey(me), id);
    else localStorage.removeItem(storageKey(me));
  } catch {
    /* no storage: a new conversation per visit */
  }
}

function recall(me) {
  try {
    return localStorage.getItem(storageKey(me));
  } catch {
    return null;
  }
}

/** The reply's text without the "a) choice" lines that the choice buttons replace. */
function withoutChoiceLines(text, choices) {
  const lines = new Set(choices.map((c, i) => `${LETTERS[i]}) ${c}`.trim()));
  return text
    .split('\n')
    .filter((line) => !lines.has(line.trim()))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

export async function render(page, ctx) {
  const me = ctx.me;
  let conversationId = null;
  let busy = false;
  const log = h('ol', { class: 'chat', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation with the tutor' });
  const inputId = nextId('chat');
  const input = h('textarea', { id: inputId, rows: 2, maxlength: 20000, placeholder: 'Ask about the course, or say “quiz me”', enterkeyhint: 'send' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const typingNote = h('p', { class: 'typing', role: 'status' });
  const form = h('form', { class: 'composer' },
    h('label', { for: inputId, class: 'visually-hidden' }, 'Message to the tutor'),
    input,
    send,
  );
  const newButton = h('button', { type: 'button', class: 'secondary' }, 'New conversation');
  add(page,
    pageTitle('Tutor', 'Ask about the course, take a quiz, check your progress or a lab. Enter sends, Shift+Enter starts a new line.'),
    h('div', { class: 'toolbar' }, newButton),
    h('div', { class: 'chat-wrap' }, log, typingNote, form),
  );

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    typingNote.textContent = value ? 'The tutor is writing…' : '';
    for (const b of log.querySelectorAll('.live button')) b.disabled = value;
  }

  function questionControls(question) {
    const wrap = h('div', { class: 'chat-question', dataset: { questionId: question.id, type: question.type } });
    if (question.choices?.length) {
      const multi = question.type === 'multi_choice';
      const picked = new Set();
      const buttons = question.choices.map((choice, i) => {
        const b = h('button', { type: 'button', class: 'choice', 'aria-pressed': multi ? 'false' : null },
          h('span', { class: 'key', 'aria-hidden': 'true' }, LETTERS[i]),
          h('span', { class: 'choice-text', html: inline(choice) }),
        );
        b.setAttribute('aria-label', `${LETTERS[i]}) ${choice.replace(/`/g, '')}`);
        b.addEventListener('click', () => {
          if (!multi) {
            say(LETTERS[i]);
            return;
          }
          if (picked.has(i)) picked.delete(i);
          else picked.add(i);
          b.setAttribute('aria-pressed', String(picked.has(i)));
        });
        return b;
      });
      add(wrap, h('div', { class: 'choices', role: 'group', 'aria-label': `Choices for question ${question.number} of ${question.of}` }, buttons));
      if (multi) {
        add(wrap, h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => picked.size && say([...picked].sort((x, y) => x - y).map((i) => LETTERS[i]).join(', ')) }, 'Send answer')));
      }
    } else if (question.type === 'true_false') {
      add(wrap, h('div', { class: 'choices two', role: 'group', 'aria-label': 'True or false' },
        h('button', { type: 'button', class: 'choice', onclick: () => say('true') }, 'True'),
        h('button', { type: 'button', class: 'choice', onclick: () => say('false') }, 'False'),
      ));
    }
    return wrap;
  }

  function messageView(m, live) {
    if (m.role === 'learner') {
      return h('li', { class: 'msg learner' }, h('p', { class: 'visually-hidden' }, 'You:'), h('div', { class: 'bubble' }, m.text));
    }
    const text = m.question?.choices?.length ? withoutChoiceLines(m.text, m.question.choices) : m.text;
    const item = h('li', { class: `msg tutor${live ? ' live' : ''}`, dataset: { intent: m.intent || '' } },
      h('p', { class: 'visually-hidden' }, 'Tutor:'),
      h('div', { class: 'bubble prose', html: markdown(text, { breaks: true }) }),
    );
    if (m.question) {
      if (live) add(item, questionControls(m.question));
      else if (m.question.choices?.length) {
        add(item, h('ol', { class: 'old-choices', type: 'a' }, m.question.choices.map((c) => h('li', { html: inline(c) }))));
      }
    }
    if (m.citations?.length) {
      add(item, h('p', { class: 'citations' }, 'Sources: ',
        m.citations.map((c, i) => [i ? ' · ' : '', h('a', { href: `#/read/${encodeURIComponent(c.section_id)}` }, c.title)])));
    }
    if (live && m.actions?.length) {
      add(item, h('div', { class: 'chips', role: 'group', 'aria-label': 'Suggestions' },
        m.actions.map((a) => h('button', { type: 'button', class: 'chip', onclick: () => say(a.text) }, a.label))));
    }
    return item;
  }

  function retire() {
    // Only the newest tutor message keeps its buttons; older ones become plain text.
    for (const li of log.querySelectorAll('.msg.live')) {
      li.classList.remove('live');
      li.querySelector('.chips')?.remove();
      const q = li.querySelector('.chat-question');
      if (q) {
        const texts = [...q.querySelectorAll('.choice-text')].map((t) => t.innerHTML);
        swap(q, texts.length ? h('ol', { class: 'old-choices', type: 'a' }, texts.map((t) => h('li', { html: t }))) : '');
      }
    }
  }

  function placeholderFor(message) {
    const type = message?.question?.type;
    input.placeholder = {
      kubectl: 'Type the kubectl command',
      short_answer: 'Type your answer',
      manifest: 'Paste your YAML (Shift+Enter for new lines)',
    }[type] || (message?.question ? 'Answer, or say hint, skip or stop' : 'Ask about the course, or say “quiz me”');
  }

  function showAll(messages) {
    clear(log);
    messages.forEach((m, i) => {
      const last = i === messages.length - 1 && m.role === 'tutor';
      add(log, messageView(m, last));
    });
    placeholderFor(messages[messages.length - 1]);
    log.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  async function start() {
    const conversation = await post('/chat/conversations');
    conversationId = conversation.id;
    remember(me, conversationId);
    showAll(conversation.messages);
  }

  async function load() {
    conversationId = recall(me);
    if (conversationId) {
      try {
        // Messages come oldest first; read every page (up to 1000 messages) to reach the end.
        const messages = [];
        let cursor = null;
        for (let i = 0; i < 5; i += 1) {
          const page1 = await get(`/chat/conversations/${encodeURIComponent(conversationId)}/messages${qs({ limit: 200, cursor })}`);
          messages.push(...page1.items);
          cursor = page1.next_cursor;
          if (!cursor) break;
        }
        if (messages.length) {
          showAll(messages);
          return;
        }
      } catch (err) {
        if (err.status !== 404) throw err;
      }
    }
    await start();
  }

  async function say(text) {
    if (busy || !text.trim()) return;
    retire();
    add(log, messageView({ role: 'learner', text }, false));
    log.lastElementChild.scrollIntoView({ block: 'end' });
    setBusy(true);
    try {
      const reply = await post(`/chat/conversations/${encodeURIComponent(conversationId)}/messages`, { text });
      add(log, messageView(reply, true));
      placeholderFor(reply);
      log.lastElementChild.scrollIntoView({ block: 'nearest' });
      input.focus();
    } catch (err) {
      add(log, h('li', { class: 'msg error' }, problemBox(err)));
      if (err.status === 404) {
        remember(me, null);
      }
      input.value = input.value || text;
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    say(text);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  newButton.addEventListener('click', async () => {
    newButton.disabled = true;
    try {
      await start();
    } catch (err) {
      add(log, h('li', { class: 'msg error' }, problemBox(err)));
    } finally {
      newButton.disabled = false;
      input.focus();
    }
  });

  await load();
}
