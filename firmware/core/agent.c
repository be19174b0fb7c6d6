/* SPDX-License-Identifier: BSD-2-Clause */
/* agent.c — see agent.h. Each reader walks idle → reading → checking → prompt |
 * up_to_date | check_failed, then portal after Proceed; removal returns it to idle.
 * A check is identified by a sequence number so that a late answer for a card that
 * has since been removed is recognised and dropped. */
#include <stdio.h>
#include <string.h>

#include "core/agent.h"

static const char *const phase_names[] = {
	"idle", "reading", "checking", "prompt", "up_to_date", "check_failed", "portal",
	"reinsert",
};

/* see agent.h */
const char *
agent_phase_name(enum agent_phase p)
{
	if ((unsigned)p >= sizeof(phase_names) / sizeof(phase_names[0]))
		return "idle";
	return phase_names[p];
}

/* see agent.h */
const char *
agent_failure_text(const char *code)
{
	static const struct { const char *code, *text; } texts[] = {
		{ "dns", "The card management service could not be found on the network." },
		{ "connect", "The card management service could not be reached." },
		{ "timeout", "The card management service did not answer in time." },
		{ "tls_untrusted", "The card management service could not be verified." },
		{ "tls_hostname", "The card management service could not be verified." },
		{ "tls_expired", "The card management service's certificate has expired." },
		{ "tls_clock", "This device's clock is not set, so the service cannot be verified." },
		{ "tls_version", "The card management service uses an outdated security protocol." },
		{ "tls_no_shared_cipher", "The card management service offers no acceptable encryption." },
		{ "tls_no_forward_secrecy", "The card management service's encryption is outdated." },
		{ "tls_weak_cipher", "The card management service's encryption is outdated." },
		{ "tls_weak_signature", "The card management service's certificate uses an outdated signature." },
		{ "tls", "A secure connection to the card management service failed." },
		{ "http_status", "The card management service is not available right now." },
		{ "bad_response", "The card management service gave an answer that could not be used." },
		{ "portal_not_allowed", "The card management service sent an address this device may not open." },
		{ "card_unreadable", "Your card could not be read. Remove it and insert it again." },
		{ "busy", "This device is busy. Please try again in a moment." },
		{ "cms_down", "The card management service is not reachable right now. Please try again later." },
		{ "card_unavailable", "The card was removed or stopped answering during the update." },
		{ "different_card", "A different card is in the reader." },
		{ "session_failed", "The card update did not finish." },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].code, code) == 0)
			return texts[i].text;
	return "The check for card updates failed.";
}

/* see agent.h */
void
agent_init(struct agent *a, int prompt_timeout_s)
{
	memset(a, 0, sizeof(*a));
	agent_init_zeroed(a, prompt_timeout_s);
}

/* see agent.h */
void
agent_init_zeroed(struct agent *a, int prompt_timeout_s)
{
	a->prompt_timeout_s = prompt_timeout_s;
}

/* see agent.h */
int
agent_find(const struct agent *a, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < a->top; i++)
		if (a->r[i].used && strcmp(a->r[i].name, name) == 0)
			return i;
	return -1;
}

static int
reader_add(struct agent *a, const char *name)
{
	int i = agent_find(a, name);

	if (i >= 0)
		return i;
	if (strlen(name) >= READER_NAME_MAX)
		return -1;
	for (i = 0; i < CONFIG_MAX_READERS; i++)
		if (i >= a->top || !a->r[i].used) {
			memset(&a->r[i], 0, sizeof(a->r[i]));
			a->r[i].used = 1;
			strcpy(a->r[i].name, name);
			if (i >= a->top)
				a->top = i + 1;
			return i;
		}
	return -1;
}

static void
clear_outcome(struct agent_reader *r)
{
	r->prompt_id[0] = '\0';
	r->prompt_deadline_ms = 0;
	r->message[0] = '\0';
	r->code[0] = '\0';
	r->result.n_updates = 0;
	r->manual = 0;
	r->session_id[0] = '\0';
}

/* Appends an action for reader i (its slot and name) and returns it; no event
 * produces more than AGENT_MAX_ACTIONS, so NULL (no room) is only a guard. */
static struct agent_action *
push(struct agent *a, struct agent_action *acts, size_t *n, enum agent_action_type t,
    int i, uint32_t seq)
{
	struct agent_action *act;

	if (*n >= AGENT_MAX_ACTIONS)
		return NULL;
	act = &acts[(*n)++];
	memset(act, 0, sizeof(*act));
	act->type = t;
	act->reader = i;
	snprintf(act->name, sizeof(act->name), "%s", a->r[i].name);
	act->check_seq = seq;
	return act;
}

/* A hook's payload: the update types ("a,b") and, but for session_end, the portal. */
static void
push_hook(struct agent *a, struct agent_action *acts, size_t *n, int i, enum agent_hook h)
{
	const struct agent_reader *r = &a->r[i];
	struct agent_action *act = push(a, acts, n, AGENT_ACT_HOOK, i, 0);
	size_t o = 0;

	if (act == NULL)
		return;
	act->hook = h;
	for (size_t u = 0; u < r->result.n_updates && o < sizeof(act->updates); u++)
		o += (size_t)snprintf(act->updates + o, sizeof(act->updates) - o, "%s%s",
		    u ? "," : "", r->result.updates[u].type);
	if (h != AGENT_HOOK_SESSION_END)
		snprintf(act->url, sizeof(act->url), "%s", r->result.portal_url);
}

static void
cancel_session(struct agent *a, int i, const char *why, struct agent_action *acts,
    size_t *n)
{
	struct agent_reader *r = &a->r[i];
	struct agent_action *act;

	if (!r->session)
		return;
	if ((act = push(a, acts, n, AGENT_ACT_CANCEL_SESSION, i, 0)) != NULL) {
		act->serial = r->session_serial;
		act->why = why;
	}
	r->session = 0;
	r->progress[0] = '\0';
}

static void
cancel_check(struct agent *a, int i, struct agent_action *acts, size_t *n)
{
	struct agent_reader *r = &a->r[i];

	if (r->check_seq != 0) {
		push(a, acts, n, AGENT_ACT_CANCEL_CHECK, i, r->check_seq);
		r->check_seq = 0;
	}
}

static void
start_check(struct agent *a, int i, enum cms_trigger trig, struct agent_action *acts,
    size_t *n)
{
	struct agent_reader *r = &a->r[i];
	struct agent_action *act;

	if (++a->next_seq == 0)
		a->next_seq = 1;
	r->check_seq = a->next_seq;
	r->phase = AGENT_CHECKING;
	if ((act = push(a, acts, n, AGENT_ACT_START_CHECK, i, r->check_seq)) != NULL) {
		act->trigger = trig;
		act->id = r->id;
	}
}

/* The card left (or the reader/service went away): end whatever it was doing. */
static void
card_gone(struct agent *a, int i, struct agent_action *acts, size_t *n)
{
	struct agent_reader *r = &a->r[i];

	cancel_check(a, i, acts, n);
	cancel_session(a, i, "card removed", acts, n);
	/* Whatever happened since Proceed (Cancel, a failed update, a re-check), the
	 * portal may hold this user's session in the browser: end it. */
	if (r->portal_open)
		push_hook(a, acts, n, i, AGENT_HOOK_SESSION_END);
	r->portal_open = 0;
	r->card_present = 0;
	r->id_valid = 0;
	r->followup = 0;
	r->phase = AGENT_IDLE;
	clear_outcome(r);
}

static void
check_done(struct agent *a, int i, const struct agent_event *ev,
    struct agent_action *acts, size_t *n)
{
	struct agent_reader *r = &a->r[i];
	const struct cms_result *res = ev->result;
	int show = r->manual || r->followup;

	r->check_seq = 0;
	a->count.checks++;
	r->result = *res;
	r->message[0] = '\0';
	r->code[0] = '\0';
	switch (res->outcome) {
	case CMS_OUT_PENDING:
		if (++a->next_prompt == 0)
			a->next_prompt = 1;
		r->prompt_no = a->next_prompt;
		snprintf(r->prompt_id, sizeof(r->prompt_id), "p%u", r->prompt_no);
		r->prompt_deadline_ms = ev->now_ms + (int64_t)a->prompt_timeout_s * 1000;
		r->phase = AGENT_PROMPT;
		snprintf(r->session_id, sizeof(r->session_id), "%s",
		    res->seram_url[0] != '\0' && ev->session_id != NULL ? ev->session_id : "");
		a->count.prompts_shown++;
		push_hook(a, acts, n, i, AGENT_HOOK_PROMPT);
		break;
	case CMS_OUT_NONE:
		r->phase = AGENT_UP_TO_DATE;
		if (r->followup) {
			/* The re-insert after an update: a code of its own, so that the page
			 * does not depend on the wording. */
			snprintf(r->message, sizeof(r->message), "Your card is up to date.");
			snprintf(r->code, sizeof(r->code), "updated");
		}
		else if (show)
			snprintf(r->message, sizeof(r->message),
			    "No update is available for your card.");
		break;
	case CMS_OUT_FAILED:
		a->count.checks_failed++;
		r->phase = AGENT_CHECK_FAILED;
		snprintf(r->code, sizeof(r->code), "%s", res->code);
		if (show)
			snprintf(r->message, sizeof(r->message), "%s",
			    agent_failure_text(res->code));
		break;
	}
	r->followup = 0;
}

/* see agent.h */
size_t
agent_handle(struct agent *a, const struct agent_event *ev, struct agent_action *acts,
    int *changed)
{
	struct agent_reader *r = NULL;
	size_t n = 0;
	int i = -1;

	*changed = 0;
	switch (ev->type) {
	case AGENT_EV_TICK:
		for (i = 0; i < a->top; i++) {
			r = &a->r[i];
			if (r->used && r->phase == AGENT_PROMPT &&
			    ev->now_ms >= r->prompt_deadline_ms) {
				a->count.prompts_timed_out++;
				r->phase = AGENT_IDLE;
				clear_outcome(r);
				*changed = 1;
			}
		}
		return n;
	case AGENT_EV_SERVICE_DOWN:
		/* Every reader is gone with pcscd; the watcher re-adds them. */
		for (i = 0; i < a->top; i++)
			if (a->r[i].used) {
				card_gone(a, i, acts, &n);
				a->r[i].used = 0;
				*changed = 1;
			}
		return n;
	case AGENT_EV_READER_ADDED:
	case AGENT_EV_CARD_INSERTED:
		if ((i = reader_add(a, ev->reader)) == -1)
			return 0;	/* table full: the caller logs it */
		break;
	default:
		if ((i = agent_find(a, ev->reader)) == -1)
			return 0;
		break;
	}
	r = &a->r[i];

	switch (ev->type) {
	case AGENT_EV_READER_ADDED:
		*changed = 1;
		break;
	case AGENT_EV_READER_REMOVED:
		card_gone(a, i, acts, &n);
		r->used = 0;
		*changed = 1;
		break;
	case AGENT_EV_CARD_INSERTED:
		cancel_check(a, i, acts, &n);
		cancel_session(a, i, "cancelled at the kiosk", acts, &n);
		if (r->portal_open)
			push_hook(a, acts, &n, i, AGENT_HOOK_SESSION_END);
		r->portal_open = 0;
		clear_outcome(r);
		r->card_present = 1;
		r->id_valid = 0;
		r->phase = AGENT_READING;
		a->count.insertions++;
		*changed = 1;
		break;
	case AGENT_EV_CARD_IDENTITY:
		if (ev->id == NULL)
			break;
		r->card_present = 1;
		r->id = *ev->id;
		r->id_valid = 1;
		r->followup = r->portal_card && card_same(&r->portal_id, ev->id);
		r->portal_card = 0;
		clear_outcome(r);
		start_check(a, i, ev->startup ? CMS_TRIGGER_STARTUP : CMS_TRIGGER_INSERTION,
		    acts, &n);
		*changed = 1;
		break;
	case AGENT_EV_CARD_READ_FAILED:
		/* Still a card, just not a readable one: say so in the state (code, no
		 * message: the user is only alerted on a manual check). */
		cancel_check(a, i, acts, &n);
		clear_outcome(r);
		r->card_present = 1;
		r->id_valid = 0;
		r->phase = AGENT_CHECK_FAILED;
		snprintf(r->code, sizeof(r->code), "card_unreadable");
		*changed = 1;
		break;
	case AGENT_EV_CARD_REMOVED:
		if (r->phase == AGENT_PROMPT)
			a->count.prompts_closed++;
		card_gone(a, i, acts, &n);
		*changed = 1;
		break;
	case AGENT_EV_CHECK_DONE:
		if (ev->result == NULL || ev->check_seq == 0 || ev->check_seq != r->check_seq)
			break;	/* stale: the card was removed or re-checked since */
		check_done(a, i, ev, acts, &n);
		*changed = 1;
		break;
	case AGENT_EV_MANUAL_CHECK:
		if (!r->card_present || r->phase == AGENT_PORTAL)
			break;
		if (r->phase == AGENT_READING || r->phase == AGENT_CHECKING) {
			/* One is on its way already: make its answer visible. */
			r->manual = 1;
			break;
		}
		clear_outcome(r);
		r->manual = 1;
		if (!r->id_valid) {
			r->phase = AGENT_CHECK_FAILED;
			snprintf(r->code, sizeof(r->code), "card_unreadable");
			snprintf(r->message, sizeof(r->message), "%s",
			    agent_failure_text(r->code));
		} else
			start_check(a, i, CMS_TRIGGER_MANUAL, acts, &n);
		*changed = 1;
		break;
	case AGENT_EV_PROCEED:
		if (r->phase != AGENT_PROMPT || ev->prompt_id == NULL ||
		    strcmp(ev->prompt_id, r->prompt_id) != 0)
			break;
		r->phase = AGENT_PORTAL;
		r->portal_open = 1;
		r->portal_card = 1;
		r->portal_id = r->id;
		r->prompt_deadline_ms = 0;
		a->count.prompts_proceeded++;
		push_hook(a, acts, &n, i, AGENT_HOOK_PROCEED);
		if (r->result.seram_url[0] != '\0' && r->session_id[0] != '\0') {
			struct agent_action *act;

			r->session = 1;
			r->session_serial = ++a->next_session;
			r->progress[0] = '\0';
			a->count.sessions_started++;
			if ((act = push(a, acts, &n, AGENT_ACT_START_SESSION, i, 0)) != NULL) {
				act->serial = r->session_serial;
				act->id = r->id;
				snprintf(act->url, sizeof(act->url), "%s", r->result.seram_url);
				snprintf(act->session_id, sizeof(act->session_id), "%s",
				    r->session_id);
			}
		}
		*changed = 1;
		break;
	case AGENT_EV_SESSION_PROGRESS:
		if (!r->session || ev->serial != r->session_serial || ev->text == NULL)
			break;
		snprintf(r->progress, sizeof(r->progress), "%s", ev->text);
		*changed = 1;
		break;
	case AGENT_EV_SESSION_DONE:
		if (!r->session || ev->serial != r->session_serial)
			break;	/* cancelled already, or an older session */
		r->session = 0;
		r->progress[0] = '\0';
		r->message[0] = '\0';
		if (ev->ok) {
			a->count.sessions_ok++;
			r->phase = AGENT_REINSERT;
			snprintf(r->message, sizeof(r->message),
			    "Remove and re-insert your card to apply your new credentials.");
		} else {
			a->count.sessions_failed++;
			r->phase = AGENT_CHECK_FAILED;
			snprintf(r->code, sizeof(r->code), "%s",
			    ev->code != NULL && ev->code[0] ? ev->code : "session_failed");
			if (strcmp(r->code, "session_failed") == 0)
				snprintf(r->message, sizeof(r->message), "%s",
				    agent_failure_text(r->code));
			else
				snprintf(r->message, sizeof(r->message), "The card update did "
				    "not finish. %s", agent_failure_text(r->code));
		}
		*changed = 1;
		break;
	case AGENT_EV_SESSION_CANCEL:
		if (!r->session)
			break;
		cancel_session(a, i, "cancelled at the kiosk", acts, &n);
		a->count.sessions_failed++;
		r->phase = AGENT_IDLE;
		clear_outcome(r);
		*changed = 1;
		break;
	case AGENT_EV_CLOSE:
		if (r->phase == AGENT_PROMPT) {
			if (ev->prompt_id == NULL || strcmp(ev->prompt_id, r->prompt_id) != 0)
				break;
			a->count.prompts_closed++;
		} else if (!((r->phase == AGENT_UP_TO_DATE || r->phase == AGENT_CHECK_FAILED) &&
		    r->message[0] != '\0'))
			break;
		r->phase = AGENT_IDLE;
		clear_outcome(r);
		*changed = 1;
		break;
	default:
		break;
	}
	return n;
}

/* see agent.h */
int64_t
agent_next_deadline(const struct agent *a)
{
	int64_t best = -1;

	for (int i = 0; i < a->top; i++) {
		const struct agent_reader *r = &a->r[i];

		if (r->used && r->phase == AGENT_PROMPT &&
		    (best == -1 || r->prompt_deadline_ms < best))
			best = r->prompt_deadline_ms;
	}
	return best;
}

/* see agent.h */
long
agent_prompt_left_s(const struct agent *a, int i, int64_t now_ms)
{
	const struct agent_reader *r = &a->r[i];

	if (r->phase != AGENT_PROMPT || r->prompt_deadline_ms <= now_ms)
		return 0;
	return (long)((r->prompt_deadline_ms - now_ms + 999) / 1000);
}
