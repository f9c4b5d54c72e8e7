// Settings: display name, time zone, desired retention, new cards per day, daily goal.
// The daily reminder (/me/reminders) and the Slack link code (/me/slack-link-code) appear
// only when this server's API offers them: the routes are looked up in its public OpenAPI
// document, and a 404 from either hides its section.

import { get, openapi, patch, post, token } from '../api.js';
import { add, clear, field, fill, h } from '../dom.js';
import { messageSlot, pageTitle, problemBox } from '../ui.js';

const SLACK_PATH = '/api/v1/me/slack-link-code';
const REMINDERS_PATH = '/api/v1/me/reminders';

function timeZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  if (!zones.includes('UTC')) zones = ['UTC', ...zones];
  if (current && !zones.includes(current)) zones = [current, ...zones];
  return zones;
}

export async function render(page, ctx) {
  let me = await get('/me');
  ctx.setMe(me);
  const spec = await openapi();
  const slackOffered = Boolean(spec?.paths?.[SLACK_PATH]);
  const remindersOffered = Boolean(spec?.paths?.[REMINDERS_PATH]?.get);

  const slot = messageSlot();
  const displayName = h('input', { id: 'set-name', maxlength: 100, autocomplete: 'name' });
  const timezone = h('select', { id: 'set-tz' }, timeZones(me.timezone).map((z) => h('option', { value: z }, z.replace(/_/g, ' '))));
  const retention = h('input', { id: 'set-retention', type: 'range', min: 0.7, max: 0.99, step: 0.01 });
  const retentionOut = h('output', { for: 'set-retention', class: 'range-value' });
  const newCards = h('input', { id: 'set-new', type: 'number', min: 0, max: 200, step: 1, required: true, inputmode: 'numeric' });
  const goal = h('input', { id: 'set-goal', type: 'number', min: 1, max: 1000, step: 1, required: true, inputmode: 'numeric' });

  const fill = (learner) => {
    displayName.value = learner.display_name || '';
    timezone.value = learner.timezone;
    retention.value = learner.desired_retention;
    retentionOut.value = `${Math.round(learner.desired_retention * 100)}%`;
    newCards.value = learner.new_cards_per_day;
    goal.value = learner.daily_goal;
  };
  retention.addEventListener('input', () => {
    retentionOut.value = `${Math.round(Number(retention.value) * 100)}%`;
  });
  fill(me);

  const save = h('button', { type: 'submit', class: 'primary' }, 'Save settings');
  const form = h('form', { class: 'stack narrow card' },
    h('h2', null, 'Study'),
    field('Display name', displayName, 'Shown on your dashboard; leave empty to use your username.'),
    field('Time zone', timezone, 'Your days (streaks, due today, new cards per day) start at midnight here.'),
    h('div', { class: 'field' },
      h('label', { for: 'set-retention' }, 'Desired retention'),
      h('div', { class: 'inline' }, retention, retentionOut),
      h('p', { class: 'hint', id: 'set-retention-hint' }, 'The chance of recalling a card when it comes due. Higher means more, shorter intervals (70% to 99%).'),
    ),
    field('New cards per day', newCards, 'How many unseen questions a day may introduce (0 to 200).'),
    field('Daily goal (reviews)', goal, 'Shown as a meter on the dashboard.'),
    h('div', { class: 'actions' }, save),
  );
  retention.setAttribute('aria-describedby', 'set-retention-hint');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    slot.clear();
    const body = {
      display_name: displayName.value.trim() || null,
      timezone: timezone.value,
      desired_retention: Number(retention.value),
      new_cards_per_day: Number(newCards.value),
      daily_goal: Number(goal.value),
      version: me.version,
    };
    save.disabled = true;
    try {
      me = await patch('/me', body);
      ctx.setMe(me);
      fill(me);
      slot.notice('Settings saved.');
    } catch (err) {
      if (err.status === 409 && err.problem.current) {
        me = err.problem.current;
        ctx.setMe(me);
        fill(me);
      }
      slot.error(err);
    } finally {
      save.disabled = false;
    }
  });

  add(page, pageTitle('Settings'), slot.el, form);

  if (slackOffered) add(page, slackSection());
  if (remindersOffered) {
    const section = await reminderSection(me).catch((err) => (err.status === 404 ? null : problemBox(err)));
    if (section) add(page, section);
  }
  if (!slackOffered && !remindersOffered) {
    add(page, h('p', { class: 'meta' }, 'Slack and daily reminders are not offered by this server.'));
  }

  add(page,
    h('section', { class: 'card narrow', 'aria-labelledby': 'account-title' },
      h('h2', { id: 'account-title' }, 'Account'),
      h('dl', { class: 'facts' },
        h('dt', null, 'Username'), h('dd', null, me.username),
        h('dt', null, 'Role'), h('dd', null, me.role),
        h('dt', null, 'Lab namespace'), h('dd', null, h('code', null, me.namespace)),
        me.email ? [h('dt', null, 'Email'), h('dd', null, me.email)] : null,
      ),
      h('p', null, h('a', { href: '/api/v1/reviews/export', id: 'export-link', download: 'reviews.jsonl' }, 'Download your review history')),
    ),
  );
  // The export needs the bearer token, so it is fetched rather than followed.
  page.querySelector('#export-link').addEventListener('click', async (event) => {
    event.preventDefault();
    try {
      const response = await fetch('/api/v1/reviews/export', { headers: { Authorization: `Bearer ${token()}` } });
      if (!response.ok) throw Object.assign(new Error(), await response.json().catch(() => ({ detail: response.statusText })));
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: 'reviews.jsonl' });
      add(document.body, a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      slot.error(err);
    }
  });
}

function slackSection() {
  const codeArea = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button' }, 'Get a link code');
  const section = h('section', { class: 'card narrow', 'aria-labelledby': 'slack-title' },
    h('h2', { id: 'slack-title' }, 'Slack'),
    h('p', null, 'Link your Slack account to review, chat with the tutor and get reminders in Slack. Get a one-time code here, then send the command it shows to the ckad-tutor app in Slack.'),
    button,
    codeArea,
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    clear(codeArea);
    try {
      const result = await post('/me/slack-link-code');
      const until = result.expires_at ? new Date(result.expires_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : null;
      add(codeArea,
        h('p', { class: 'link-code' }, 'Your code: ', h('code', { id: 'slack-code' }, result.code)),
        result.command ? h('p', null, 'In Slack, send ', h('code', null, result.command)) : null,
        result.expires_in
          ? h('p', { class: 'meta' }, `Valid for ${Math.round(result.expires_in / 60)} minutes${until ? ` (until ${until})` : ''}; a new code replaces this one.`)
          : null,
      );
    } catch (err) {
      if (err.status === 404 || err.status === 405) section.remove();
      else add(codeArea, problemBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return section;
}

async function reminderSection(me) {
  let reminder = await get('/me/reminders');
  const slot = messageSlot();
  const enabled = h('input', { id: 'rem-on', type: 'checkbox' });
  const time = h('input', { id: 'rem-time', type: 'time', required: true });
  const zone = h('select', { id: 'rem-tz' }, timeZones(reminder.timezone || me.timezone).map((z) => h('option', { value: z }, z.replace(/_/g, ' '))));
  const linked = h('p', { class: 'meta' });
  const fill = (r) => {
    enabled.checked = Boolean(r.enabled);
    time.value = (r.time || '').slice(0, 5);
    zone.value = r.timezone || me.timezone;
    linked.textContent = r.slack_linked
      ? 'Reminders are sent to your linked Slack account.'
      : 'Reminders are sent on Slack: link your Slack account first.';
  };
  fill(reminder);
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save reminder');
  const form = h('form', { class: 'stack card narrow', 'aria-labelledby': 'rem-title' },
    h('h2', { id: 'rem-title' }, 'Daily reminder'),
    linked,
    h('div', { class: 'check-field' }, enabled, h('label', { for: 'rem-on' }, 'Remind me every day when cards are due')),
    field('Reminder time', time, 'Local time in the reminder’s time zone.'),
    field('Reminder time zone', zone),
    slot.el,
    h('div', { class: 'actions' }, save),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    slot.clear();
    save.disabled = true;
    try {
      reminder = await patch('/me/reminders', { enabled: enabled.checked, time: time.value, timezone: zone.value });
      fill(reminder);
      slot.notice('Reminder saved.');
    } catch (err) {
      slot.error(err);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
