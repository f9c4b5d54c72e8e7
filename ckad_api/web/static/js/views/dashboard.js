// The dashboard: today's numbers, the next thing to study, and three charts
// (mastery per domain and competency, the 30-day forecast, reviews per day).

import { get, qs } from '../api.js';
import { dayBars, masteryBars } from '../charts.js';
import { add, clear, fill, h, plural } from '../dom.js';
import { loading, localDate, longDay, pageTitle, problemBox, shortDay } from '../ui.js';

const HISTORY_DAYS = 30;

/** Reviews per local day over the last 30 days, from the public review history. */
async function reviewsPerDay(timeZone) {
  const since = Date.now() - (HISTORY_DAYS + 1) * 86400 * 1000;
  const counts = new Map();
  let cursor = null;
  for (let page = 0; page < 25; page += 1) {
    const result = await get(`/reviews/history${qs({ limit: 200, cursor })}`);
    let older = false;
    for (const log of result.items) {
      const at = new Date(log.reviewed_at);
      if (at.getTime() < since) {
        older = true;
        break;
      }
      if (log.undone_at) continue;
      const day = localDate(at, timeZone);
      counts.set(day, (counts.get(day) || 0) + 1);
    }
    if (older || !result.next_cursor) break;
    cursor = result.next_cursor;
  }
  // Calendar days counted back from today's local date (not 24-hour steps, which a
  // daylight-saving change would skew).
  const [y, m, d] = localDate(new Date(), timeZone).split('-').map(Number);
  const days = [];
  for (let i = HISTORY_DAYS - 1; i >= 0; i -= 1) {
    days.push(new Date(Date.UTC(y, m - 1, d - i)).toISOString().slice(0, 10));
  }
  return days.map((day) => ({ label: longDay(day), short: shortDay(day), value: counts.get(day) || 0 }));
}

function tile(label, value, note, id) {
  return h(
    'div',
    { class: 'tile', id },
    h('p', { class: 'tile-label' }, label),
    h('p', { class: 'tile-value' }, value),
    note ? h('p', { class: 'tile-note' }, note) : null,
  );
}

function nextStep(progress, course, me) {
  const box = h('section', { class: 'card next', 'aria-labelledby': 'next-title' }, h('h2', { id: 'next-title' }, 'Next'));
  if (progress.cards_seen === 0) {
    add(box,
      h('p', null, 'Start with the course: the first chapter sets up the exam environment, then answer your first questions.'),
      h('div', { class: 'actions' },
        h('a', { class: 'button primary', href: '#/course' }, 'Open the course'),
        h('a', { class: 'button', href: '#/review' }, 'First review'),
      ),
    );
    return box;
  }
  const actions = h('div', { class: 'actions' });
  if (progress.due_today > 0) {
    add(box, h('p', null, `You have ${plural(progress.due_today, 'card')} to review today.`));
    add(actions, h('a', { class: 'button primary', href: '#/review' }, 'Review now'));
  } else {
    add(box, h('p', null, 'Nothing is due right now. Learn something new, or practise without touching your schedule.'));
    add(actions, h('a', { class: 'button primary', href: '#/review' }, 'Learn new cards'));
  }
  const weakest = progress.domains
    .filter((d) => d.weight > 0)
    .flatMap((d) => d.competencies)
    .filter((c) => c.questions > 0)
    .sort((a, b) => a.score - b.score || a.seen - b.seen)[0];
  if (weakest) {
    const sections = course.domains.flatMap((d) => d.competencies).find((c) => c.id === weakest.id)?.sections || [];
    add(box, h('p', null, 'Your weakest area: ', h('strong', null, weakest.title), ` (${Math.round(weakest.score * 100)}% expected recall).`));
    if (sections.length) add(actions, h('a', { class: 'button', href: `#/read/${encodeURIComponent(sections[0])}` }, 'Read about it'));
    add(actions, h('a', { class: 'button', href: `#/review?${new URLSearchParams({ competency: weakest.id, mode: 'practice' })}` }, 'Practise it'));
  }
  if (me.daily_goal) {
    const done = progress.reviews_today;
    add(box,
      h('p', { class: 'goal' },
        h('label', { for: 'goal-meter' }, `Daily goal: ${done} of ${me.daily_goal} reviews `),
        h('meter', { id: 'goal-meter', min: 0, max: me.daily_goal, value: Math.min(done, me.daily_goal) }),
      ),
    );
  }
  add(box, actions);
  return box;
}

export async function render(page, ctx) {
  const me = ctx.me;
  add(page, pageTitle(`Hello, ${me.display_name || me.username}`));
  const status = loading('Loading your progress…');
  add(page, status);
  const [progress, course, forecast] = await Promise.all([
    get('/progress'),
    get('/course'),
    get('/progress/forecast?days=30'),
  ]);
  status.remove();
  const pct = (x) => `${Math.round(x * 10) / 10}%`;
  add(page,
    h('section', { class: 'tiles', 'aria-label': 'Today' },
      tile('Due today', String(progress.due_today), progress.due_today ? 'cards waiting' : 'all caught up', 'tile-due'),
      tile('Streak', plural(progress.streak_days, 'day'), 'in a row with a review', 'tile-streak'),
      tile('Reviews today', String(progress.reviews_today), `${plural(progress.cards_seen, 'card')} seen so far`, 'tile-reviews'),
      tile('Exam readiness', pct(progress.readiness), 'weighted by the exam domains', 'tile-readiness'),
      tile(
        'True retention',
        progress.true_retention === null ? '—' : pct(progress.true_retention * 100),
        progress.true_retention === null ? 'after your first mature reviews' : `over ${plural(progress.true_retention_reviews, 'review')}`,
        'tile-retention',
      ),
    ),
    nextStep(progress, course, me),
  );

  const forecastChart = h('div', { id: 'chart-forecast' });
  const perDay = h('div', { id: 'chart-reviews' }, loading('Loading history…'));
  const mastery = h('div', { id: 'chart-mastery', class: 'grid-2' });
  add(page,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'forecast-title' },
        h('h2', { id: 'forecast-title' }, 'Reviews due, next 30 days'),
        forecastChart,
      ),
      h('section', { class: 'card', 'aria-labelledby': 'perday-title' },
        h('h2', { id: 'perday-title' }, 'Reviews per day, last 30 days'),
        perDay,
      ),
    ),
    h('section', { class: 'mastery', 'aria-labelledby': 'mastery-title' },
      h('h2', { id: 'mastery-title' }, 'Mastery by exam domain and competency'),
      h('p', { class: 'chart-caption' }, 'Expected share of each area’s questions you would recall right now; unseen questions count as 0.'),
      mastery,
    ),
  );
  for (const domain of progress.domains) {
    const chart = h('div');
    add(mastery, h('div', { class: 'card domain-chart' }, chart));
    const comps = domain.competencies.map((c) => `${c.title} ${Math.round(c.score * 100)}%`).join('; ');
    masteryBars(chart, {
      domains: [domain],
      title: `${domain.title}: ${Math.round(domain.score * 100)}% expected recall`,
      summary: `${domain.seen} of ${domain.questions} questions seen, ${domain.mastered} mastered. Competencies: ${comps}.`,
    });
  }
  const points = forecast.items.map((d) => ({ label: longDay(d.date), short: shortDay(d.date), value: d.due }));
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const peak = points.reduce((a, b) => (b.value > a.value ? b : a), points[0] || { value: 0 });
  dayBars(forecastChart, {
    points,
    title: 'Reviews due per day over the next 30 days',
    summary: total ? `${total} reviews due in 30 days; the busiest day is ${peak.label} with ${peak.value}.` : 'Nothing is scheduled yet.',
    empty: 'Nothing scheduled yet',
    barClass: 'bar',
  });
  try {
    const days = await reviewsPerDay(me.timezone);
    clear(perDay);
    const sum = days.reduce((acc, d) => acc + d.value, 0);
    dayBars(perDay, {
      points: days,
      title: 'Reviews per day over the last 30 days',
      summary: sum ? `${sum} reviews in the last 30 days, ${days[days.length - 1].value} today.` : 'No reviews yet.',
      empty: 'No reviews yet',
      barClass: 'bar alt',
    });
  } catch (err) {
    fill(perDay, problemBox(err));
  }
}
