/* state.c — see state.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "autoconf.h"
#ifdef CONFIG_ADMIN
#include "web/admin/admin.h"
#endif
#include "state.h"

/* see state.h */
int
state_add_query(char *out, size_t cap, const char *url, const char *param,
    const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	const char *frag = strchr(url, '#');
	size_t base = frag ? (size_t)(frag - url) : strlen(url), o;
	int n;

	n = snprintf(out, cap, "%.*s%c%s=", (int)base, url,
	    memchr(url, '?', base) ? '&' : '?', param);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (o + 4 >= cap)
			return -1;
		if (plain)
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hexd[*p >> 4];
			out[o++] = hexd[*p & 15];
		}
	}
	if (frag != NULL) {
		if (o + strlen(frag) >= cap)
			return -1;
		strcpy(out + o, frag);
		o += strlen(frag);
	}
	out[o] = '\0';
	return 0;
}

/* The URL Proceed goes to: the CMS's portal_url, plus the SERAM session id (SPEC §7)
 * and the way back to the kiosk page when configured. A URL that would not fit is
 * given without the additions (the portal still works, only less conveniently). */
static void
portal_url(char *out, size_t cap, const struct agent_reader *r, const struct cfg *cfg,
    const char *kiosk_origin)
{
	char tmp[CMS_URL_MAX + 64];

	snprintf(out, cap, "%s", r->result.portal_url);
	if (r->session_id[0] != '\0') {
		if (state_add_query(tmp, sizeof(tmp), out, "seram_session", r->session_id) == 0)
			snprintf(out, cap, "%s", tmp);
	}
	if (cfg->kiosk_return_param[0] != '\0' &&
	    state_add_query(tmp, sizeof(tmp), out, cfg->kiosk_return_param, kiosk_origin) == 0)
		snprintf(out, cap, "%s", tmp);
}

static json_object *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

/* see state.h */
struct web_snapshot *
state_snapshot(const struct agent *a, const struct cfg *cfg, const char *kiosk_origin,
    int64_t now_ms, unsigned long seq)
{
	struct web_snapshot *s;
	json_object *root, *ui, *readers;
	const char *js;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->seq = seq;
	root = json_object_new_object();
	ui = json_object_new_object();
	readers = json_object_new_array();
	json_object_object_add(root, "seq", json_object_new_int64((int64_t)seq));
	json_object_object_add(ui, "lang", json_object_new_string(cfg->kiosk_lang));
	json_object_object_add(ui, "manual_check",
	    json_object_new_boolean(cfg->kiosk_manual_check));
#ifdef CONFIG_ADMIN
	/* Until an administrator has set a password, whoever stands at the kiosk can
	 * read the one-time setup code (physical presence is the proof). */
	json_object_object_add(ui, "setup_code", admin_setup_code() != NULL ?
	    json_object_new_string(admin_setup_code()) : NULL);
	json_object_object_add(ui, "admin_fingerprint", admin_setup_code() != NULL &&
	    admin_fingerprint() != NULL ? json_object_new_string(admin_fingerprint()) : NULL);
#else
	/* No admin listener in this build: never a setup code (the page expects the keys). */
	json_object_object_add(ui, "setup_code", NULL);
	json_object_object_add(ui, "admin_fingerprint", NULL);
#endif
	json_object_object_add(root, "ui", ui);
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		const struct agent_reader *r = &a->r[i];
		struct web_reader_view *v;
		json_object *jr, *prompt = NULL;

		if (!r->used)
			continue;
		v = &s->r[s->n++];
		snprintf(v->name, sizeof(v->name), "%s", r->name);
		v->card_present = r->card_present;
		jr = json_object_new_object();
		json_object_object_add(jr, "name", json_object_new_string(r->name));
		json_object_object_add(jr, "card",
		    json_object_new_string(r->card_present ? "present" : "absent"));
		json_object_object_add(jr, "phase",
		    json_object_new_string(agent_phase_name(r->phase)));
		if (r->phase == AGENT_PROMPT) {
			json_object *ups = json_object_new_array();

			snprintf(v->prompt_id, sizeof(v->prompt_id), "%s", r->prompt_id);
			portal_url(v->portal_url, sizeof(v->portal_url), r, cfg, kiosk_origin);
			prompt = json_object_new_object();
			json_object_object_add(prompt, "id", json_object_new_string(r->prompt_id));
			for (size_t u = 0; u < r->result.n_updates; u++) {
				json_object *ju = json_object_new_object();

				json_object_object_add(ju, "type",
				    json_object_new_string(r->result.updates[u].type));
				json_object_object_add(ju, "description", json_object_new_string(
				    r->result.updates[u].description));
				json_object_array_add(ups, ju);
			}
			json_object_object_add(prompt, "updates", ups);
			json_object_object_add(prompt, "expires_in_s",
			    json_object_new_int64(agent_prompt_left_s(a, i, now_ms)));
			json_object_object_add(prompt, "manual",
			    json_object_new_boolean(r->manual));
		}
		json_object_object_add(jr, "prompt", prompt);
		if (r->session) {
			json_object *jsess = json_object_new_object();

			json_object_object_add(jsess, "progress", str_or_null(r->progress));
			json_object_object_add(jr, "session", jsess);
		} else
			json_object_object_add(jr, "session", NULL);
		json_object_object_add(jr, "message", str_or_null(r->message));
		json_object_object_add(jr, "code", str_or_null(r->code));
		json_object_array_add(readers, jr);
	}
	json_object_object_add(root, "readers", readers);
	js = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	s->json = strdup(js);
	s->json_len = s->json ? strlen(s->json) : 0;
	json_object_put(root);
	if (s->json == NULL) {
		free(s);
		return NULL;
	}
	return s;
}
