/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_settings.c — libFuzzer target for settings.c: settings_update_text (the admin
 * page's settings changes applied to the configuration file's text) and
 * settings_value_ok. Input: byte 0 = number of changes (bits 0-1) and mode (bit 2: the
 * changes name any section and key; else each change is one byte choosing a key the
 * admin page can change), then per change its NUL-terminated value (with section and
 * key before it in the free mode), then the file's text (cut at a NUL, as
 * settings_read_file refuses NULs).
 * Checked: no crash, a NUL-terminated result, NULL only for a refused value (and then
 * the first refused one); and, when text and changes are plain enough that core/ini.c
 * and settings.c must agree on what a line is, the promise itself as core/ini.c (the
 * daemon's INI reader) reads the result: every changed key once with its new value,
 * every other key/value as before, in the same order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_keys.h"
#include "core/ini.h"
#include "web/admin/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCH_MAX	4

/* One key/value as core/ini.c reports it. */
struct kv {
	char	*sec, *key, *val;
};

struct kvs {
	struct kv	*v;
	size_t		 n, cap;
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static int
on_kv(void *arg, const struct ini_item *it)
{
	struct kvs *k = arg;

	if (it->kind == INI_ERROR)
		return 1;	/* the reader refused a line */
	if (it->kind != INI_KEY)
		return 0;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		if ((k->v = realloc(k->v, k->cap * sizeof(*k->v))) == NULL)
			abort();
	}
	k->v[k->n].sec = xstrdup(it->section);
	k->v[k->n].key = xstrdup(it->key);
	k->v[k->n].val = xstrdup(it->value);
	k->n++;
	return 0;
}

static void
kvs_free(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].sec);
		free(k->v[i].key);
		free(k->v[i].val);
	}
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

/* Text on which core/ini.c and settings.c cannot disagree about what a line is: no
 * control characters (UTF-8 is fine), lines within INI_LINE_MAX, no line starting with a
 * blank, and every line empty, a comment, "[name]" (shorter than INI_SECTION_MAX) or
 * "name = value" with a plain name. */
static int
plain_text(const char *t)
{
	while (*t != '\0') {
		const char *eol = strchr(t, '\n'), *e = eol ? eol : t + strlen(t), *p;

		if (e - t > INI_LINE_MAX - 64)
			return 0;
		for (p = t; p < e; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return 0;
		if (t == e || *t == ';' || *t == '#') {
			/* empty or a comment */
		} else if (*t == '[') {
			for (p = t + 1; p < e && name_char(*p); p++)
				;
			if (p == t + 1 || p + 1 != e || *p != ']' ||
			    p - t - 1 >= INI_SECTION_MAX)	/* refused by the reader */
				return 0;
		} else {
			for (p = t; p < e && name_char(*p); p++)
				;
			if (p == t)
				return 0;
			while (p < e && *p == ' ')
				p++;
			if (p == e || (*p != '=' && *p != ':'))
				return 0;
		}
		t = eol ? eol + 1 : e;
	}
	return 1;
}

/* Index of the change naming (sec, key), or n. */
static size_t
changed(const struct settings_change *ch, size_t n, const char *sec, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ch[i].section, sec) == 0 && strcmp(ch[i].key, key) == 0)
			break;
	return i;
}

/* A string of at most max bytes from data (up to a NUL, which is consumed). */
static char *
take(const uint8_t **data, size_t *size, size_t max)
{
	const uint8_t *z = memchr(*data, '\0', *size);
	size_t n = z ? (size_t)(z - *data) : *size;
	char *s;

	if (n > max)
		n = max;
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *data, n);
	s[n] = '\0';
	n += (n < *size && (*data)[n] == '\0');
	*data += n;
	*size -= n;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings_change ch[NCH_MAX];
	char *owned[NCH_MAX * 3] = { 0 };
	size_t n, nown = 0, bad = (size_t)-1, first_bad;
	const char *why = NULL;
	char *text, *out;
	int free_mode, oracle;

	if (size == 0)
		return 0;
	n = data[0] & 3;
	free_mode = (data[0] >> 2) & 1;
	data++;
	size--;
	oracle = !free_mode;
	for (size_t i = 0; i < n; i++) {
		if (free_mode) {
			ch[i].section = owned[nown++] = take(&data, &size, 64);
			ch[i].key = owned[nown++] = take(&data, &size, 64);
		} else {
			const struct cfg_key *k = &cfg_keys[size ? data[0] % cfg_nkeys : 0];

			data += size ? 1 : 0;
			size -= size ? 1 : 0;
			ch[i].section = k->section;
			ch[i].key = k->key;
			if (changed(ch, i, k->section, k->key) < i)
				oracle = 0;	/* the same key twice: the first wins */
		}
		ch[i].value = owned[nown++] = take(&data, &size, 4096);
		if (strlen(ch[i].value) > INI_LINE_MAX - 200)
			oracle = 0;		/* over the reader's line length */
	}
	text = take(&data, &size, (size_t)-1);

	first_bad = n;
	for (size_t i = 0; i < n && first_bad == n; i++) {
		const char *w = NULL;

		if (settings_value_ok(ch[i].value, &w) == -1) {
			if (w == NULL || *w == '\0')
				abort();	/* a refusal always says why */
			first_bad = i;
		}
	}

	out = settings_update_text(text, ch, n, &why, &bad);
	if (out == NULL) {
		/* only a refused value (the first one) or out of memory */
		if (why == NULL || (bad != first_bad && bad != n) ||
		    (first_bad == n && bad != n))
			abort();
	} else {
		size_t len = strlen(out);	/* ASan: NUL-terminated in its buffer */

		if (first_bad != n)
			abort();		/* a refused value was written */
		if (memchr(out, '\0', len + 1) != out + len)
			abort();
		if (oracle && plain_text(text)) {
			struct kvs before = { 0 }, after = { 0 };
			size_t seen[NCH_MAX] = { 0 }, j = 0;

			if (ini_parse(text, on_kv, &before) != 0 ||
			    ini_parse(out, on_kv, &after) != 0) {
				fprintf(stderr, "core/ini.c refused the result:\n%s\n", out);
				abort();
			}
			for (size_t i = 0; i < after.n; i++) {
				size_t c = changed(ch, n, after.v[i].sec, after.v[i].key);

				if (c < n) {
					if (strcmp(after.v[i].val, ch[c].value) != 0) {
						fprintf(stderr, "[%s] %s reads back as \"%s\", "
						    "not \"%s\":\n%s\n", ch[c].section,
						    ch[c].key, after.v[i].val, ch[c].value, out);
						abort();
					}
					seen[c]++;
					continue;
				}
				/* the next unchanged key of the old text */
				while (j < before.n && changed(ch, n, before.v[j].sec,
				    before.v[j].key) < n)
					j++;
				if (j == before.n || strcmp(before.v[j].sec, after.v[i].sec) ||
				    strcmp(before.v[j].key, after.v[i].key) ||
				    strcmp(before.v[j].val, after.v[i].val)) {
					fprintf(stderr, "[%s] %s = %s: not kept in place:\n%s\n",
					    after.v[i].sec, after.v[i].key, after.v[i].val, out);
					abort();
				}
				j++;
			}
			while (j < before.n && changed(ch, n, before.v[j].sec,
			    before.v[j].key) < n)
				j++;
			if (j != before.n) {
				fprintf(stderr, "[%s] %s lost:\n%s\n", before.v[j].sec,
				    before.v[j].key, out);
				abort();
			}
			for (size_t i = 0; i < n; i++)
				if (seen[i] != 1) {
					fprintf(stderr, "[%s] %s written %zu times:\n%s\n",
					    ch[i].section, ch[i].key, seen[i], out);
					abort();
				}
			kvs_free(&before);
			kvs_free(&after);
		}
		free(out);
	}
	free(text);
	for (size_t i = 0; i < nown; i++)
		free(owned[i]);
	return 0;
}
