// The dashboards' script: signs in with a login and password (the API
// keeps the session in an HttpOnly cookie the script never sees), reads
// the JSON API with it, renders the page the path names, and refreshes the page when the
// API's event stream says the read models moved. Everything shown comes
// from the API, so a page shows no more than the API lets the user see.
// Text goes into the page as text nodes, never as HTML.

import { t, lang, setLang, num, locale, count, nounForm, tf } from './i18n.js';
import { barChart, stackedBars, spreadChart } from './charts.js';
import { commandForm, formsOpen } from './forms.js';

const sectorsOrder = ['social_assistance', 'family_support', 'labour', 'education', 'health', 'justice', 'police', 'housing', 'ngo', 'other', 'client', 'coordinator'];
const familyStages = ['opened', 'diagnosis_in_progress', 'diagnosed', 'contract_drafted', 'contract_in_force', 'contract_ended', 'closed'];
const actionSeries = ['completed', 'open', 'overdue', 'missed'];

const state = {
  me: null,
  position: 0, // the highest read-model position the page has shown
  refreshing: null,
  again: false,
};

// ---- The API ----------------------------------------------------------

/** ApiError is a problem (RFC 9457) the API answered. */
class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function get(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  const pos = Number(res.headers.get('X-Koop-Position') || 0);
  if (pos > state.position) state.position = pos;
  if (res.status === 401) {
    toSignIn(true);
    throw new ApiError(401, {});
  }
  if (!res.ok) {
    let problem = {};
    try {
      problem = await res.json();
    } catch {
      // not a problem document
    }
    throw new ApiError(res.status, problem);
  }
  return res.json();
}

/** download saves what an API route answers as a file: a link cannot
 * carry the token, so the page fetches it and hands the browser a blob. */
async function download(path, name) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!res.ok) {
    alert(t('evaluation.download_failed'));
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** may tells whether a role reads a kind of data (api/auth.go). */
function may(what) {
  const role = state.me ? state.me.role : '';
  const roles = {
    families: ['admin', 'animator', 'coordinator', 'worker', 'auditor'],
    caseload: ['coordinator', 'worker'],
    evaluation: ['admin', 'evaluator'],
  }[what];
  return roles.includes(role);
}

/** send sends a JSON body and answers the response with its decoded body (a problem on failure). */
async function send(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try {
    data = await res.json();
  } catch {
    // no body (204)
  }
  return { res, data };
}

/** toSignIn goes to the sign-in page, back here afterwards; expired says the session ended. */
function toSignIn(expired) {
  if (location.pathname === '/login') return;
  const q = new URLSearchParams({ next: location.pathname + location.search });
  if (expired) q.set('expired', '1');
  location.assign(`/login?${q}`);
}

async function signOut() {
  await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
  location.assign('/login');
}

// ---- Building the page ------------------------------------------------

/** h builds an element; attributes with a "data-" prefix or known names, children as nodes or text. */
function h(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

function date(d) {
  if (!d) return '—';
  const [y, m, day] = d.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, day));
}

function dateTime(ts) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Warsaw' }).format(new Date(ts));
}

/** tile is a figure with its name; data-k and data-value carry it for tests and tools. */
function tile(key, value, label, digits = 0) {
  return h('div', { class: 'tile', 'data-k': key, 'data-value': value ?? '' },
    h('span', { class: 'tile-value' }, num(value, digits)),
    h('span', { class: 'tile-label' }, label || t(key)));
}

/** countTile is a tile of a count, named by its noun in the form the count takes ("4 partnerstwa"). */
function countTile(key, value, noun) {
  return tile(key, value, nounForm(value, noun));
}

function table(headers, rows, attrs = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, t('none'));
  return h('div', { class: 'scroll' }, h('table', attrs,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}

function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

function sectorLabel(s) {
  return t('sector', s || 'other');
}

function sortedSectors(obj) {
  return Object.keys(obj || {}).sort((a, b) => rank(a) - rank(b));
}

function rank(s) {
  const i = sectorsOrder.indexOf(s);
  return i < 0 ? sectorsOrder.length : i;
}

function actionRows(bySector) {
  return sortedSectors(bySector).map((s) => ({ key: s, label: sectorLabel(s), parts: bySector[s] }));
}

function actionSeriesLabels() {
  return actionSeries.map((k) => ({ key: k, label: t('astatus', k) }));
}

function stageItems(byStage) {
  return familyStages.map((s) => ({ key: s, label: t('fstage', s), value: (byStage || {})[s] || 0 }));
}

// ---- Pages ------------------------------------------------------------

async function overviewPage() {
  const d = await get('/api/v1/dashboard');
  const all = d.overall;
  const groups = d.partnerships;
  const main = [
    h('h1', {}, t('overview.title')),
    h('p', { class: 'intro' }, t('overview.intro')),
    h('p', { class: 'muted', 'data-k': 'as_of', 'data-value': d.as_of, 'data-rule': d.cutoff_rule }, `${t('as_of')} ${date(d.as_of)} — ${t('cutoff', d.cutoff_rule)} · ${t('position')} ${d.position}`),
    h('section', { class: 'card', 'data-group': 'overall' },
      h('h2', {}, t('overall')),
      h('div', { class: 'tiles' },
        countTile('partnerships', groups.length, 'partnership'),
        countTile('members', all.institution.members, 'institution'),
        countTile('basket', all.institution.services, 'service'),
        countTile('families', all.client.families_enrolled, 'family'),
        countTile('contracts_signed', all.client.contracts_signed, 'signed_contract'),
        countTile('overdue_actions', all.client.actions.overdue, 'overdue_action'),
        tile('days_to_contract', all.client.days_to_contract.median, t('days_to_contract'), 1)),
      h('div', { class: 'charts' },
        h('figure', {}, h('figcaption', {}, t('families_by_stage')), barChart(stageItems(all.families_by_stage), t('families_by_stage'))),
        h('figure', {}, h('figcaption', {}, t('actions_by_sector')),
          stackedBars(actionRows(all.client.actions_by_sector), actionSeriesLabels(), t('actions_by_sector'))),
        h('figure', {}, h('figcaption', {}, t('days_to_contract')),
          spreadChart(groups.map((g) => ({ key: g.partnership_id, label: g.municipality || g.name, d: g.client.days_to_contract })), t('days_to_contract'))))),
  ];
  for (const g of groups) {
    main.push(h('section', { class: 'card', 'data-group': g.partnership_id },
      h('h2', {}, h('a', { href: `/partnerships/${g.partnership_id}` }, g.name)),
      h('p', { class: 'muted' }, [g.municipality, g.county].filter(Boolean).join(', ')),
      h('div', { class: 'tiles' },
        countTile('members', g.institution.members, 'institution'),
        countTile('sectors', g.institution.sector_coverage, 'sector'),
        countTile('basket', g.institution.services, 'service'),
        countTile('meetings', g.institution.meetings, 'meeting'),
        countTile('families', g.client.families_enrolled, 'family'),
        countTile('contracts_signed', g.client.contracts_signed, 'signed_contract'),
        countTile('overdue_actions', g.client.actions.overdue, 'overdue_action'),
        tile('days_to_contract', g.client.days_to_contract.median, t('days_to_contract_short'), 1)),
      h('div', { class: 'charts' },
        h('figure', {}, h('figcaption', {}, t('members_by_sector')),
          barChart(sortedSectors(g.institution.members_by_sector).map((s) => ({ key: s, label: sectorLabel(s), value: g.institution.members_by_sector[s] })), t('members_by_sector'))),
        h('figure', {}, h('figcaption', {}, t('families_by_stage')), barChart(stageItems(g.families_by_stage), t('families_by_stage'))),
        h('figure', {}, h('figcaption', {}, t('actions_by_sector')),
          stackedBars(actionRows(g.client.actions_by_sector), actionSeriesLabels(), t('actions_by_sector'))))));
  }
  return main;
}

async function partnershipPage(id) {
  const p = await get(`/api/v1/partnerships/${encodeURIComponent(id)}`);
  const fams = may('families') ? await get(`/api/v1/families?partnership=${encodeURIComponent(id)}`) : null;
  const names = Object.fromEntries(p.members.map((m) => [m.institution_id, m.name]));
  const active = p.members.filter((m) => !m.left);
  const basket = p.services.filter((s) => !s.withdrawn);
  const out = [
    h('h1', {}, p.name),
    h('p', { class: 'muted' }, [p.municipality, p.county, t('pstage', p.stage)].filter(Boolean).join(' · ')),
    h('div', { class: 'tiles' },
      countTile('members', active.length, 'institution'),
      countTile('basket', basket.length, 'service'),
      countTile('meetings', p.meetings.length, 'meeting'),
      countTile('families', Object.values(p.families_by_stage).reduce((a, b) => a + b, 0), 'family')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('leader')), h('dd', {}, names[p.leader_id] || p.leader_id),
      h('dt', {}, t('initiated_on')), h('dd', {}, date(p.initiated_on)),
      h('dt', {}, t('formalized_on')), h('dd', {}, date(p.formalized_on))),
    section(t('families_by_stage'), barChart(stageItems(p.families_by_stage), t('families_by_stage'))),
    section(t('members'), table([t('institution'), t('sector'), t('date')],
      p.members.map((m) => h('tr', { class: m.left ? 'left' : '', 'data-institution': m.institution_id },
        h('td', {}, m.name), h('td', {}, sectorLabel(m.sector)),
        h('td', {}, date(m.joined_on), m.left ? ` – ${t('left_on')} ${date(m.left_on)}` : ''))), { 'data-k': 'members' })),
    section(t('basket'), table([t('service'), t('institution'), t('sector')],
      p.services.map((s) => h('tr', { class: s.withdrawn ? 'left' : '', 'data-service': s.service_id },
        h('td', {}, s.name, s.withdrawn ? ` (${t('withdrawn')})` : ''), h('td', {}, s.institution_name), h('td', {}, sectorLabel(s.sector)))), { 'data-k': 'basket' })),
    section(t('meetings'), table([t('date'), t('kind'), t('participants')],
      p.meetings.map((m) => h('tr', {}, h('td', {}, date(m.date)), h('td', {}, t('meeting', m.kind)), h('td', {}, num((m.attendees || []).length)))), { 'data-k': 'meetings' })),
  ];
  if (fams) out.push(section(t('families'), familyTable(fams.items)));
  return out;
}

function familyTable(items) {
  return table([t('applicant'), t('stage'), t('coordinator'), t('opened_on'), t('team_size'), t('overdue_actions'), t('next_deadline')],
    items.map((f) => h('tr', { 'data-family': f.id },
      h('td', {}, h('a', { href: `/families/${f.id}` }, f.applicant || `#${f.id.slice(-6)}`)),
      h('td', {}, t('fstage', f.stage)),
      h('td', {}, f.coordinator),
      h('td', {}, date(f.opened_on)),
      h('td', { class: 'num' }, num(f.team_size)),
      h('td', { class: f.overdue_actions ? 'num warn' : 'num' }, num(f.overdue_actions)),
      h('td', {}, date(f.next_deadline)))), { 'data-k': 'families' });
}

async function familiesPage() {
  const list = await get('/api/v1/families');
  return [h('h1', {}, t('families.title')), h('p', { class: 'intro' }, t('families.intro')),
    h('p', { class: 'muted', 'data-k': 'count', 'data-value': list.items.length }, count(list.items.length, 'family')),
    section(t('families'), familyTable(list.items))];
}

/** warsawDay is the day (YYYY-MM-DD) of an instant in Poland. */
function warsawDay(ts) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Warsaw' }).format(ts === undefined ? new Date() : new Date(ts));
}

function today() {
  return warsawDay();
}

function addDays(d, n) {
  const [y, m, day] = d.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, day + n)).toISOString().slice(0, 10);
}

function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000);
}

async function familyPage(id) {
  const params = new URLSearchParams(location.search);
  const asOf = params.get('as_of') || '';
  const q = asOf ? `?as_of=${asOf}` : '';
  const [plan, hist] = await Promise.all([
    get(`/api/v1/families/${encodeURIComponent(id)}/plan${q}`).catch((e) => e),
    get(`/api/v1/families/${encodeURIComponent(id)}/history`).catch((e) => e),
  ]);
  if (plan instanceof ApiError && plan.status === 404) throw plan;
  const out = [h('h1', {}, t('family.title'))];
  const opened = plan instanceof ApiError ? (hist.items && hist.items.length ? warsawDay(hist.items[0].occurred_at) : today()) : plan.opened_on;
  out.push(asOfSlider(opened, asOf));
  if (plan instanceof ApiError) {
    out.push(h('p', { class: 'notice', 'data-k': 'plan-refused' }, plan.status === 403 ? t('plan.none') : plan.message));
  } else {
    out.push(...planSections(plan));
  }
  if (hist instanceof ApiError) {
    out.push(section(t('history'), h('p', { class: 'muted' }, hist.status === 403 ? t('history.none') : hist.message)));
  } else {
    out.push(historySection(hist.items, asOf));
  }
  return out;
}

function asOfSlider(opened, asOf) {
  const end = today();
  const span = Math.max(0, daysBetween(opened, end));
  const value = asOf ? Math.min(span, Math.max(0, daysBetween(opened, asOf))) : span;
  const label = h('output', { id: 'asof-label', for: 'asof' }, asOf ? date(asOf) : `${date(end)} (${t('family.today')})`);
  const input = h('input', { id: 'asof', type: 'range', min: 0, max: span, step: 1, value, 'aria-label': t('family.asof') });
  input.addEventListener('input', () => {
    const d = addDays(opened, Number(input.value));
    label.textContent = Number(input.value) === span ? `${date(end)} (${t('family.today')})` : date(d);
  });
  input.addEventListener('change', () => {
    const v = Number(input.value);
    setQuery('as_of', v === span ? '' : addDays(opened, v));
  });
  return h('div', { class: 'asof card' }, h('label', { for: 'asof' }, t('family.asof')), input, label);
}

function setQuery(key, value) {
  const u = new URL(location.href);
  if (value) u.searchParams.set(key, value);
  else u.searchParams.delete(key);
  history.replaceState(null, '', u);
  refresh();
}

function planSections(p) {
  const out = [];
  const applicant = (p.household || []).find((m) => m.relation === 'applicant') || (p.household || [])[0];
  out.push(h('div', { class: 'tiles' },
    h('div', { class: 'tile', 'data-k': 'stage', 'data-value': p.stage },
      h('span', { class: 'tile-value small' }, t('fstage', p.stage)), h('span', { class: 'tile-label' }, t('stage'))),
    tile('team_size', (p.team || []).length, t('team')),
    countTile('overdue_actions', (p.overdue || []).length, 'overdue_action')));
  out.push(h('dl', { class: 'facts' },
    h('dt', {}, t('applicant')), h('dd', { 'data-k': 'applicant' }, applicant ? applicant.name : '—'),
    h('dt', {}, t('coordinator')), h('dd', {}, `${p.coordinator.name} (${p.coordinator.institution})`),
    h('dt', {}, t('opened_on')), h('dd', {}, date(p.opened_on)),
    h('dt', {}, t('status')), h('dd', {}, t('status', p.status)),
    h('dt', {}, t('as_of')), h('dd', { 'data-k': 'plan-as-of', 'data-value': p.as_of }, date(p.as_of))));
  out.push(section(t('household'), table([t('person'), t('relation')], (p.household || []).map((m) => h('tr', {}, h('td', {}, m.name), h('td', {}, t('relation', m.relation)))))));
  out.push(section(t('team'), table([t('who'), t('institution'), t('sector')],
    (p.team || []).map((m) => h('tr', { 'data-worker': m.worker_id }, h('td', {}, m.name), h('td', {}, m.institution), h('td', {}, sectorLabel(m.sector)))), { 'data-k': 'team' })));
  const dx = p.diagnosis || { areas: [] };
  out.push(section(`${t('diagnosis')} (${dx.completed ? t('diagnosis.completed') : t('diagnosis.in_progress')})`,
    table([t('area'), t('severity'), t('sector')], dx.areas.map((a) => h('tr', { 'data-area': a.area },
      h('td', {}, t('area', a.area)), h('td', { class: `sev-${a.severity}` }, t('severity', a.severity)),
      h('td', {}, [...new Set(a.inputs.map((i) => sectorLabel(i.sector)))].join(', ')))))));
  const c = p.contract;
  if (c) {
    const goals = Object.fromEntries((c.goals || []).map((g) => [g.id, g]));
    out.push(section(`${t('contract')} — ${t('cstatus', c.status)}`,
      h('p', {}, h('strong', {}, `${t('main_goal')}: `), c.main_goal),
      h('p', { class: 'muted' }, `${date(c.start_date)} – ${date(c.end_date)}`),
      h('h3', {}, t('goals')),
      table([t('goals'), t('achievement')], (c.goals || []).map((g) => h('tr', {}, h('td', {}, g.description), h('td', {}, g.achievement ? t('achievement', g.achievement) : '—')))),
      h('h3', {}, t('actions')),
      ...(c.actions_by_sector || []).map((grp) => h('div', { class: 'sector-actions', 'data-sector': grp.sector || grp.party },
        h('h4', {}, grp.party === 'institution' ? sectorLabel(grp.sector) : t('party', grp.party)),
        table([t('actions'), t('deadline'), t('status')], grp.actions.map((a) => h('tr', { 'data-action': a.id, 'data-status': a.overdue ? 'overdue' : a.status },
          h('td', {}, a.description, goals[a.goal_id] ? h('small', { class: 'muted' }, ` — ${goals[a.goal_id].description}`) : ''),
          h('td', {}, date(a.deadline)),
          h('td', { class: a.overdue ? 'warn' : '' }, a.overdue ? `⚠ ${t('overdue')}` : t('astatus', a.status)))))))));
  }
  return out;
}

/** decider names who decided: the user, their position (else the role they acted in), their institution. */
function decider(e) {
  const by = e.by || {};
  const role = t('role', e.actor.role);
  return `${by.name || role} (${[by.position || role, by.institution].filter(Boolean).join(', ')})`;
}

// The history's summaries name people, institutions, services and actions
// (the server writes them in Polish, the users' language).
function historySection(items, asOf) {
  return section(t('history'), h('ol', { class: 'timeline', 'data-k': 'history' },
    items.map((e) => h('li', { class: !asOf || warsawDay(e.occurred_at) <= asOf ? '' : 'future', 'data-seq': e.sequence },
      h('time', { datetime: e.occurred_at }, dateTime(e.occurred_at)),
      h('span', { class: 'what' }, e.summary),
      h('span', { class: 'muted', 'data-k': 'by' }, ` — ${decider(e)}`, e.reason ? ` · ${e.reason}` : '')))));
}

async function caseloadPage() {
  if (!state.me.worker_id) return [h('h1', {}, t('caseload.title')), h('p', { class: 'notice' }, t('caseload.none'))];
  const c = await get(`/api/v1/workers/${encodeURIComponent(state.me.worker_id)}/caseload`);
  // A deadline names its family by the applicant, as the list below does.
  const applicants = Object.fromEntries(c.families.map((f) => [f.id, f.applicant]));
  const deadlineRows = (list) => table([t('deadline'), t('actions'), t('sector'), t('families')],
    list.map((d) => h('tr', { 'data-action': d.action_id },
      h('td', {}, date(d.deadline)), h('td', {}, d.description),
      h('td', {}, d.party === 'institution' ? sectorLabel(d.sector) : t('party', d.party)),
      h('td', {}, h('a', { href: `/families/${d.family_id}` }, applicants[d.family_id] || `#${d.family_id.slice(-6)}`)))));
  return [
    h('h1', {}, t('caseload.title')),
    h('p', { class: 'muted' }, `${state.me.name} · ${t('as_of')} ${date(c.as_of)}`),
    h('div', { class: 'tiles' },
      countTile('families', c.families.length, 'family'),
      countTile('overdue', c.overdue.length, 'overdue_action'),
      tile('upcoming', c.upcoming.length, t('caseload.upcoming'))),
    section(t('caseload.overdue'), deadlineRows(c.overdue)),
    section(t('caseload.upcoming'), deadlineRows(c.upcoming.slice(0, 20))),
    section(t('caseload.families'), familyTable(c.families)),
  ];
}

// ---- Moje zadania: the worker's task list -------------------------------

/**
 * myTasks gathers, from the plans of the families on the user's caseload
 * (as the API lets the user see them), the actions the user's institution
 * carries out (and, for a coordinator, their own) that are still open,
 * and the referrals sent to the user's institution that await an answer
 * or are under way.
 */
async function myTasks() {
  const me = state.me;
  const c = await get(`/api/v1/workers/${encodeURIComponent(me.worker_id)}/caseload`);
  const plans = await Promise.all(c.families.map((f) => get(`/api/v1/families/${encodeURIComponent(f.id)}/plan`).catch(() => null)));
  const out = { asOf: c.as_of, families: [], actions: [], awaiting: [], underway: [] };
  plans.forEach((p, i) => {
    if (!p) return;
    const f = c.families[i];
    const applicant = (p.household || []).find((m) => m.relation === 'applicant') || (p.household || [])[0];
    const fam = { id: p.id, name: f.applicant || (applicant && applicant.name) || t('tasks.unnamed'), version: p.version, stage: p.stage, status: p.status };
    out.families.push(fam);
    if (p.status === 'closed') return;
    const mine = (a) => (a.responsible.kind === 'institution' && a.responsible.institution_id === me.institution_id)
      || (a.responsible.kind === 'coordinator' && p.coordinator && p.coordinator.worker_id === me.worker_id);
    if (p.contract && p.contract.status === 'in_force') {
      for (const a of p.contract.actions || []) {
        if ((a.status === 'planned' || a.status === 'started') && mine(a)) out.actions.push({ ...a, family: fam });
      }
    }
    for (const r of p.referrals || []) {
      if (r.institution_id !== me.institution_id) continue;
      if (r.status === 'requested') out.awaiting.push({ ...r, family: fam });
      if (r.status === 'accepted') out.underway.push({ ...r, family: fam });
    }
  });
  const byDeadline = (a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0);
  out.actions.sort(byDeadline);
  out.awaiting.sort((a, b) => (a.date < b.date ? -1 : 1));
  out.underway.sort((a, b) => (a.updated_on < b.updated_on ? -1 : 1));
  return out;
}

/** taskForm opens a command's form in the row below a task; one at a time. */
function taskForm(row, cols, spec) {
  const prev = document.querySelector('tr.form-row');
  if (prev) prev.remove();
  const said = document.getElementById('tasks-said');
  if (said) said.hidden = true;
  state.announcement = '';
  const opener = document.activeElement;
  const form = commandForm({
    ...spec,
    onCancel: () => {
      cell.parentNode.remove();
      if (opener && opener.isConnected) opener.focus();
      if (state.missed) {
        state.missed = false;
        scheduleRefresh();
      }
    },
    onDone: async () => {
      state.missed = false;
      announce(spec.done);
      await refresh();
      // The row is gone or changed: the keyboard goes on from what was said.
      const said = document.getElementById('tasks-said');
      if (said && !said.hidden) said.focus();
    },
    onFresh: () => refresh(),
  });
  const cell = h('td', { colspan: cols }, form);
  row.after(h('tr', { class: 'form-row' }, cell));
  form.focusFirst();
}

/** announce says what was done in the page's live region, above the tables. */
function announce(text) {
  state.announcement = text;
}

function familyLink(fam) {
  return h('a', { href: `/families/${encodeURIComponent(fam.id)}` }, fam.name);
}

function actionRow(a) {
  const path = `/api/v1/families/${encodeURIComponent(a.family.id)}/contract/actions/${encodeURIComponent(a.id)}`;
  const id = `act-${a.family.id.slice(0, 8)}-${a.id}`;
  const row = h('tr', { 'data-action': a.id, 'data-family': a.family.id, 'data-status': a.overdue ? 'overdue' : a.status });
  const open = (status, label) => h('button', {
    type: 'button', class: 'small', 'data-do': status,
    onclick: () => taskForm(row, 5, {
      id: `${id}-${status}`, title: `${label}: ${a.description}`, path, version: () => a.family.version,
      fixed: { status }, submit: label, done: tf('tasks.action_done', t('astatus', status)),
      fields: [{ name: 'date', label: t('tasks.date'), type: 'date', required: true },
        { name: 'note', label: t('tasks.note'), type: 'textarea' }],
    }),
  }, label);
  row.append(
    h('td', {}, familyLink(a.family)),
    h('td', {}, a.description),
    h('td', { class: a.overdue ? 'warn' : '' }, date(a.deadline), a.overdue ? ` ⚠ ${t('overdue')}` : ''),
    h('td', {}, t('astatus', a.status)),
    h('td', { class: 'task-buttons' },
      a.status === 'planned' ? open('started', t('tasks.start')) : '',
      open('completed', t('tasks.complete')),
      open('missed', t('tasks.missed'))));
  return row;
}

function referralRow(r) {
  const path = `/api/v1/families/${encodeURIComponent(r.family.id)}/referrals/${encodeURIComponent(r.referral_id)}`;
  const id = `ref-${r.referral_id.slice(0, 8)}`;
  const row = h('tr', { 'data-referral': r.referral_id, 'data-family': r.family.id, 'data-status': r.status });
  const open = (status, label, fields) => h('button', {
    type: 'button', class: 'small', 'data-do': status,
    onclick: () => taskForm(row, 5, {
      id: `${id}-${status}`, title: `${label}: ${r.service_name}`, path, version: () => r.family.version,
      fixed: { status }, submit: label, done: tf('tasks.referral_done', t('rstatus', status)),
      fields: [{ name: 'date', label: t('tasks.date'), type: 'date', required: true }, ...fields],
    }),
  }, label);
  row.append(
    h('td', {}, familyLink(r.family)),
    h('td', {}, r.service_name, r.note ? h('small', { class: 'muted' }, ` — ${r.note}`) : ''),
    h('td', {}, date(r.status === 'requested' ? r.date : r.updated_on)),
    h('td', {}, t('rstatus', r.status)),
    h('td', { class: 'task-buttons' }, r.status === 'requested'
      ? [open('accepted', t('tasks.accept'), []),
        open('declined', t('tasks.decline'), [{ name: 'reason', label: t('tasks.reason'), type: 'textarea', required: true }])]
      : open('completed', t('tasks.complete_referral'), [])));
  return row;
}

async function tasksPage() {
  if (!state.me.worker_id) return [h('h1', {}, t('tasks.title')), h('p', { class: 'notice' }, t('caseload.none'))];
  const m = await myTasks();
  const overdue = m.actions.filter((a) => a.overdue);
  const due = m.actions.filter((a) => !a.overdue);
  const actionTable = (rows, k) => table([t('tasks.family'), t('actions'), t('deadline'), t('status'), t('tasks.do')], rows.map(actionRow), { 'data-k': k });
  const referralTable = (rows, k) => table([t('tasks.family'), t('service'), t('date'), t('status'), t('tasks.do')], rows.map(referralRow), { 'data-k': k });
  const said = state.announcement;
  return [
    h('h1', {}, t('tasks.title')),
    h('p', { class: 'intro' }, t('tasks.intro')),
    h('p', { class: 'muted' }, `${state.me.name} · ${t('as_of')} ${date(m.asOf)}`),
    h('p', { class: 'notice done', id: 'tasks-said', role: 'status', 'aria-live': 'polite', tabindex: -1, hidden: !said }, said || ''),
    h('div', { class: 'tiles' },
      countTile('overdue', overdue.length, 'overdue_action'),
      countTile('due', due.length, 'due_action'),
      countTile('awaiting', m.awaiting.length, 'awaiting_referral'),
      countTile('underway', m.underway.length, 'underway_referral')),
    section(t('tasks.overdue'), actionTable(overdue, 'overdue')),
    section(t('tasks.due'), actionTable(due, 'due')),
    section(t('tasks.awaiting'), referralTable(m.awaiting, 'awaiting')),
    section(t('tasks.underway'), referralTable(m.underway, 'underway')),
    section(t('tasks.families'), table([t('tasks.family'), t('stage'), t('tasks.diagnosis')],
      m.families.map((f) => h('tr', { 'data-family': f.id },
        h('td', {}, familyLink(f)), h('td', {}, t('fstage', f.stage)),
        h('td', {}, f.status === 'open' && (f.stage === 'opened' || f.stage === 'diagnosis_in_progress')
          ? h('a', { href: `/families/${encodeURIComponent(f.id)}` }, t('tasks.diagnosis_open')) : '—'))), { 'data-k': 'families' })),
  ];
}

async function evaluationPage() {
  const params = new URLSearchParams(location.search);
  const asOf = params.get('as_of') || '';
  const ev = await get(`/api/v1/evaluation${asOf ? `?as_of=${asOf}` : ''}`);
  if (ev.replay && ev.replay.position > state.position) state.position = ev.replay.position;
  const groups = ev.partnerships;
  const label = (g) => g.municipality || g.name;
  const form = h('form', { class: 'asof card', onsubmit: (e) => { e.preventDefault(); setQuery('as_of', input.value); } });
  const input = h('input', { id: 'eval-asof', type: 'date', value: asOf || ev.as_of });
  form.append(h('label', { for: 'eval-asof' }, t('evaluation.asof')), input, h('button', { type: 'submit' }, t('evaluation.show')));
  const query = asOf ? `?as_of=${asOf}` : '';
  const downloads = h('p', { class: 'downloads' },
    h('button', { type: 'button', id: 'download-xlsx', onclick: () => download(`/api/v1/evaluation/export.xlsx${query}`, `wskazniki-${ev.as_of}.xlsx`) }, t('evaluation.xlsx')),
    ' ',
    h('button', { type: 'button', id: 'download-csv', onclick: () => download(`/api/v1/evaluation/export.csv${query}`, `wskazniki-${ev.as_of}.csv`) }, t('evaluation.csv')));
  const bars = (f) => groups.map((g) => ({ key: g.partnership_id, label: label(g), value: f(g) }));
  const levelTable = (rows) => table([t('partnership'), ...rows.map((r) => r[0])],
    [...groups, ev.overall].map((g) => h('tr', { 'data-group': g.partnership_id || 'overall' },
      h('th', { scope: 'row' }, g.partnership_id ? label(g) : t('overall')),
      rows.map((r) => h('td', { class: 'num', 'data-k': r[1] }, num(r[2](g), 2))))));
  return [
    h('h1', {}, t('evaluation.title')),
    h('p', { class: 'intro' }, t('evaluation.intro')),
    form,
    downloads,
    h('p', { class: 'muted', 'data-k': 'as_of', 'data-value': ev.as_of, 'data-rule': ev.cutoff_rule }, `${t('as_of')} ${date(ev.as_of)} — ${t('cutoff', ev.cutoff_rule)} · ${t('position')} ${ev.replay.position}`),
    section(t('institution_level'),
      levelTable([[t('members'), 'members', (g) => g.institution.members], [t('sectors_covered'), 'sector_coverage', (g) => g.institution.sector_coverage],
        [t('basket'), 'services', (g) => g.institution.services], [t('meetings'), 'meetings', (g) => g.institution.meetings]]),
      h('figure', {}, h('figcaption', {}, t('members')), barChart(bars((g) => g.institution.members), t('members')))),
    section(t('worker_level'),
      levelTable([[t('teams_formed'), 'teams_formed', (g) => g.worker.teams_formed],
        [t('team_size_at_forming'), 'team_size_at_forming', (g) => g.worker.team_size_at_forming.value],
        [t('team_meetings_per_family_month'), 'team_meetings_per_family_month', (g) => g.worker.team_meetings_per_family_month]])),
    section(t('staff_support_level'),
      levelTable([[t('support_activities'), 'support_activities', (g) => g.staff_support.support_activities],
        [t('support_hours'), 'support_hours', (g) => g.staff_support.support_hours],
        [t('support_participants'), 'support_participants', (g) => g.staff_support.support_participants],
        [t('team_members_trained_share'), 'team_members_trained_share', (g) => g.staff_support.team_members_trained_share]]),
      h('figure', {}, h('figcaption', {}, t('support_by_form')),
        barChart(Object.entries(ev.overall.staff_support.support_by_form || {}).map(([k, v]) => ({ key: k, label: t('support', k), value: v.hours })), t('support_by_form')))),
    section(t('client_level'),
      levelTable([[t('families_enrolled'), 'families_enrolled', (g) => g.client.families_enrolled],
        [t('contracts_signed'), 'contracts_signed', (g) => g.client.contracts_signed],
        [t('days_to_diagnosis'), 'days_to_diagnosis', (g) => g.client.days_to_diagnosis.median],
        [t('days_to_contract'), 'days_to_contract', (g) => g.client.days_to_contract.median],
        [t('reopenings'), 'reopenings', (g) => g.client.reopenings]]),
      h('div', { class: 'charts' },
        h('figure', {}, h('figcaption', {}, t('days_to_contract')),
          spreadChart(groups.map((g) => ({ key: g.partnership_id, label: label(g), d: g.client.days_to_contract })), t('days_to_contract'))),
        h('figure', {}, h('figcaption', {}, t('actions_by_sector')),
          stackedBars(actionRows(ev.overall.client.actions_by_sector), actionSeriesLabels(), t('actions_by_sector'))),
        h('figure', {}, h('figcaption', {}, t('goals_by_achievement')),
          barChart(Object.entries(ev.overall.client.goals_by_achievement || {}).map(([k, v]) => ({ key: k, label: t('achievement', k), value: v })), t('goals_by_achievement'))),
        h('figure', {}, h('figcaption', {}, t('contract_endings')),
          barChart(Object.entries(ev.overall.client.contract_endings || {}).map(([k, v]) => ({ key: k, label: t('ending', k), value: v })), t('contract_endings'))))),
  ];
}

/** field is a labelled input with the place for its problem below it. */
function field(id, label, attrs = {}) {
  const input = h('input', { id, name: id, required: true, 'aria-describedby': `${id}-error`, ...attrs });
  return {
    input,
    nodes: [h('label', { for: id }, label), input, h('p', { class: 'error field-error', id: `${id}-error`, role: 'alert' })],
    problem(text) {
      document.getElementById(`${id}-error`).textContent = text || '';
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/** passwordProblem says in the page's language what is wrong with a new password the API refused. */
function passwordProblem(p) {
  const d = p.detail || '';
  if (/at least/.test(d)) return t('password.short');
  if (/login/.test(d)) return t('password.login');
  if (/well-known|repeated/.test(d)) return t('password.guessable');
  if (/same as the old/.test(d)) return t('password.same');
  return d;
}

function safeNext() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function loginPage() {
  const q = new URLSearchParams(location.search);
  const login = field('username', t('login.login'), { type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', value: q.get('login') || '' });
  const password = field('password', t('login.password'), { type: 'password', autocomplete: 'current-password' });
  const msg = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const button = h('button', { type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'card login', id: 'login', novalidate: true },
    h('h1', {}, t('login.title')),
    q.get('expired') ? h('p', { class: 'notice', id: 'login-expired', role: 'status' }, t('login.expired')) : h('p', {}, t('login.intro')),
    ...login.nodes, ...password.nodes, msg, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    login.problem('');
    password.problem('');
    if (!login.input.value.trim()) {
      login.problem(t('required'));
      login.input.focus();
      return;
    }
    if (!password.input.value) {
      password.problem(t('required'));
      password.input.focus();
      return;
    }
    button.disabled = true;
    try {
      const { res, data } = await send('POST', '/api/v1/session', { login: login.input.value.trim(), password: password.input.value });
      if (res.ok) {
        location.assign(safeNext());
        return;
      }
      password.input.value = '';
      if (res.status === 429) {
        msg.textContent = tf('login.throttled', Number(res.headers.get('Retry-After') || 1));
      } else if (res.status === 401) {
        msg.textContent = t('login.bad');
      } else if (data.field === 'login') {
        login.problem(t('login.badlogin'));
      } else {
        msg.textContent = data.detail || `HTTP ${res.status}`;
      }
      msg.dataset.code = data.code || String(res.status);
      password.input.focus();
    } catch {
      msg.textContent = t('offline');
    } finally {
      button.disabled = false;
    }
  });
  return [form];
}

/** newPasswordForm is the form of a new password typed twice, for the set-up and change pages. */
function newPasswordForm(id, title, intro, withOld, submit) {
  const old = withOld ? field('old_password', t('password.old'), { type: 'password', autocomplete: 'current-password' }) : null;
  const pw = field('new_password', t('password.new'), { type: 'password', autocomplete: 'new-password', minlength: 10 });
  const again = field('repeat_password', t('password.repeat'), { type: 'password', autocomplete: 'new-password' });
  const msg = h('p', { class: 'error', role: 'alert', id: `${id}-error` });
  const button = h('button', { type: 'submit' }, t('password.submit'));
  const form = h('form', { class: 'card login', id, novalidate: true },
    h('h1', {}, title), h('p', {}, intro), h('p', { class: 'muted' }, t('password.rules')),
    ...(old ? old.nodes : []), ...pw.nodes, ...again.nodes, msg, button);
  const fields = { old_password: old, new_password: pw, password: pw, repeat_password: again };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    for (const f of [old, pw, again]) if (f) f.problem('');
    if (old && !old.input.value) {
      old.problem(t('required'));
      old.input.focus();
      return;
    }
    if ([...pw.input.value].length < 10) {
      pw.problem(t('password.short'));
      pw.input.focus();
      return;
    }
    if (pw.input.value !== again.input.value) {
      again.problem(t('password.mismatch'));
      again.input.focus();
      return;
    }
    button.disabled = true;
    try {
      const { res, data } = await submit(old ? old.input.value : '', pw.input.value);
      if (res.ok) {
        form.replaceChildren(h('h1', {}, title), h('p', { class: 'notice', id: `${id}-done`, role: 'status' }, ...done(data)));
        return;
      }
      const f = fields[data.field];
      if (data.code === 'old_password_wrong') old.problem(t('password.oldwrong'));
      else if (res.status === 429) msg.textContent = tf('login.throttled', Number(res.headers.get('Retry-After') || 1));
      else if (data.code === 'setup_link_invalid') msg.textContent = t('setup.invalid');
      else if (data.code === 'setup_link_expired') msg.textContent = t('setup.expired');
      else if (f) f.problem(passwordProblem(data));
      else msg.textContent = data.detail || `HTTP ${res.status}`;
      msg.dataset.code = data.code || String(res.status);
    } catch {
      msg.textContent = t('offline');
    } finally {
      button.disabled = false;
    }
  });
  const done = (data) => (withOld
    ? [t('password.changed')]
    : [tf('setup.done', data.login || ''), ' ', h('a', { href: `/login?login=${encodeURIComponent(data.login || '')}` }, t('login.submit'))]);
  return [form];
}

function setupPage() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  if (!token) return [h('section', { class: 'card login' }, h('h1', {}, t('setup.title')), h('p', { class: 'notice', id: 'setup-error' }, t('setup.invalid')))];
  return newPasswordForm('setup', t('setup.title'), t('setup.intro'), false,
    (_, password) => send('POST', '/api/v1/setup', { token, password }));
}

function passwordPage() {
  return newPasswordForm('change-password', t('password.title'), t('password.intro'), true,
    (oldPassword, newPassword) => send('POST', '/api/v1/password', { old_password: oldPassword, new_password: newPassword }));
}

const routes = [
  [/^\/$/, overviewPage],
  [/^\/families$/, familiesPage],
  [/^\/families\/([^/]+)$/, familyPage],
  [/^\/partnerships\/([^/]+)$/, partnershipPage],
  [/^\/caseload$/, caseloadPage],
  [/^\/tasks$/, tasksPage],
  [/^\/evaluation$/, evaluationPage],
  [/^\/password$/, async () => passwordPage()],
];

// Pages shown without signing in.
const openPages = { '/login': loginPage, '/setup': setupPage };

function page() {
  for (const [re, fn] of routes) {
    const m = location.pathname.match(re);
    if (m) return () => fn(...m.slice(1).map(decodeURIComponent));
  }
  return async () => [h('h1', {}, '404')];
}

// refresh renders the current page again from the API, keeping the
// focused control and the scroll position; a refresh asked for while one
// runs runs once more after it.
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return state.refreshing;
  }
  const main = document.getElementById('main');
  state.refreshing = (async () => {
    do {
      state.again = false;
      const focused = document.activeElement && document.activeElement.id;
      let nodes;
      try {
        nodes = await page()();
      } catch (err) {
        nodes = errorView(err);
      }
      // A form opened while the page was read stays; the news waits.
      if (formsOpen()) {
        state.missed = true;
        break;
      }
      const y = window.scrollY;
      main.replaceChildren(...nodes);
      main.dataset.position = state.position;
      main.dataset.rendered = String(Number(main.dataset.rendered || 0) + 1);
      window.scrollTo(0, y);
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    } while (state.again);
  })();
  try {
    await state.refreshing;
  } finally {
    state.refreshing = null;
  }
}

function errorView(err) {
  if (err instanceof ApiError) {
    const text = err.status === 403 ? t('error.forbidden') : err.status === 404 ? t('error.notfound') : err.message;
    return [h('h1', {}, t('error.title')), h('p', { class: 'notice', 'data-k': 'error', 'data-value': err.status }, text)];
  }
  return [h('h1', {}, t('error.title')), h('p', { class: 'notice', 'data-k': 'error' }, String(err && err.message ? err.message : err))];
}

// ---- Live updates -------------------------------------------------------

function setLive(s) {
  const n = document.getElementById('live');
  n.dataset.state = s;
  n.textContent = t(`live.${s}`);
}

// scheduleRefresh refreshes the page soon, once for a burst of news. The
// evaluation replays the whole history on each read: at most every 10 s.
let refreshTimer = null;
function scheduleRefresh() {
  // A form being filled in is not redrawn under the user's hands.
  if (refreshTimer || location.pathname === '/password') return;
  if (formsOpen()) {
    state.missed = true;
    return;
  }
  const wait = location.pathname === '/evaluation' ? 10000 : 150;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh();
  }, wait);
}

// live follows GET /api/v1/stream (Server-Sent Events read with fetch, so
// the token goes in a header) and reconnects with a growing pause when
// the connection drops or falls silent.
async function live() {
  let pause = 500;
  let connections = 0;
  for (;;) {
    setLive('connecting');
    const ctl = new AbortController();
    let watchdog = setTimeout(() => ctl.abort(), 40000);
    try {
      const res = await fetch('/api/v1/stream', { credentials: 'same-origin', signal: ctl.signal, cache: 'no-store' });
      if (res.status === 401) {
        // A form being filled in keeps its data: it says itself that the
        // session ended when it is sent.
        if (!formsOpen()) {
          toSignIn(true);
          return;
        }
        throw new Error('stream: the session ended');
      }
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      setLive('on');
      pause = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      // After a reconnection the page may have missed news: refresh once.
      let missed = connections++ > 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => ctl.abort(), 40000); // pings come every 15 s
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            const c = line.indexOf(':');
            if (c > 0) ev[line.slice(0, c)] = line.slice(c + 1).trim();
          }
          if (ev.event === 'position') {
            const pos = JSON.parse(ev.data).position;
            if (pos > state.position || missed) scheduleRefresh();
            missed = false;
          }
        }
      }
    } catch {
      // dropped, refused or silent: reconnect below
    }
    clearTimeout(watchdog);
    setLive('off');
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 8000);
  }
}

// ---- Start ----------------------------------------------------------------

function chrome() {
  document.documentElement.lang = lang();
  const l = document.getElementById('lang');
  l.textContent = t('lang.switch');
  l.lang = lang() === 'pl' ? 'en' : 'pl';
  const nav = document.getElementById('nav');
  const links = [['/', 'nav.overview']];
  if (state.me) {
    if (may('families')) links.push(['/families', 'nav.families']);
    if (may('caseload')) links.push(['/tasks', 'nav.tasks'], ['/caseload', 'nav.caseload']);
    if (may('evaluation')) links.push(['/evaluation', 'nav.evaluation']);
  }
  nav.replaceChildren(...(state.me ? links : []).map(([href, key]) => h('a', {
    href, 'aria-current': location.pathname === href ? 'page' : undefined,
  }, t(key))));
  const who = document.getElementById('who');
  who.textContent = state.me ? `${state.me.name} · ${t('role', state.me.role)}` : '';
  const out = document.getElementById('signout');
  out.textContent = t('signout');
  out.hidden = !state.me;
  const pw = document.getElementById('change-password-link');
  pw.textContent = t('password.link');
  pw.hidden = !(state.me && state.me.login);
  const live = document.getElementById('live');
  if (live.dataset.state) live.textContent = t(`live.${live.dataset.state}`);
}

async function start() {
  document.getElementById('lang').addEventListener('click', () => {
    setLang(lang() === 'pl' ? 'en' : 'pl');
    chrome();
    if (openPages[location.pathname]) {
      document.getElementById('main').replaceChildren(...openPages[location.pathname]());
    } else {
      refresh();
    }
  });
  document.getElementById('signout').addEventListener('click', () => signOut());
  if (openPages[location.pathname]) {
    chrome();
    document.getElementById('live').hidden = true;
    const main = document.getElementById('main');
    main.replaceChildren(...openPages[location.pathname]());
    main.dataset.rendered = '1';
    const first = main.querySelector('input');
    if (first) first.focus();
    return;
  }
  const res = await fetch('/api/v1/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).catch(() => null);
  if (!res || res.status === 401) {
    let problem = {};
    try {
      problem = res ? await res.json() : {};
    } catch {
      // not a problem document
    }
    toSignIn(problem.code === 'session_expired');
    return;
  }
  state.me = await res.json();
  chrome();
  await refresh();
  live();
}

start();
