/*
 * conf_json.c — the settings rows "monitoring" and "pushover" over the
 * file's values.  See conf.h.  The JSON is parsed by SQLite's json_tree in
 * a private in-memory database, so no JSON parser of our own is needed.
 */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Sets key k of base from a JSON scalar of SQLite json_tree type `type` and
 * text atom.  Booleans take true/false and the integers 0/1 (SQLite's own
 * json_set(..., false) stores 0); numbers take JSON numbers, never strings.
 */
static int
json_apply(const struct conf *c, const struct kdef *k, void *base, struct kstate *ks,
    const char *jkey, const char *type, const char *atom)
{
	struct strbuf old = { 0 }, now = { 0 };
	int ok, r, ret = DL_OK;
	char ex[80];

	if (strcmp(type, "null") == 0) {
		msg_verbose("settings row 'monitoring': %s is null, ignored", jkey);
		goto out;
	}
	if (k->type == KT_BOOL)
		ok = strcmp(type, "true") == 0 || strcmp(type, "false") == 0 ||
		    strcmp(type, "integer") == 0;
	else if (k->type == KT_INT)
		ok = strcmp(type, "integer") == 0;
	else
		ok = strcmp(type, "integer") == 0 || strcmp(type, "real") == 0;
	if (ks->origin == ORIGIN_FILE && conf_kget(k, base, &old) != DL_OK) {
		ret = DL_ENOMEM;
		goto out;
	}
	r = ok ? conf_kset(k, base, atom ? atom : "", NULL) : -1;
	if (r == DL_ENOMEM) {
		ret = DL_ENOMEM;
		goto out;
	}
	if (r != 0) {
		conf_kexpect(k, ex, sizeof ex);
		msg_err("settings row 'monitoring': %s: bad value '%s' (expected %s)", jkey,
		    atom && strcmp(type, "object") && strcmp(type, "array") ? atom : type, ex);
		ret = DL_ECONF;
		goto out;
	}
	if (ks->origin == ORIGIN_FILE && msg_verbosity() >= 1) {
		if (conf_kget(k, base, &now) != DL_OK) {
			ret = DL_ENOMEM;
			goto out;
		}
		msg_verbose("settings row 'monitoring' overrides %s:%d %s = %s with %s",
		    c->path, ks->file_line, jkey, old.buf, now.buf);
	}
	ks->origin = ORIGIN_DATABASE;
	ks->row = "monitoring";
out:
	sb_free(&old);
	sb_free(&now);
	return ret;
}

/* One member of the row: path is its container ("$", "$.pushover", ...). */
static int
json_member(struct conf_priv *p, const char *path, const char *key, const char *type,
    const char *atom)
{
	struct conf *c = &p->pub;
	char jkey[160];
	size_t i;

	if (strcmp(path, "$") == 0) {
		if (strcmp(key, "pushover") == 0 || strcmp(key, "downloaders") == 0) {
			if (strcmp(type, "object") == 0)
				return DL_OK;
			msg_err("settings row 'monitoring': %s: bad value '%s' (expected an object)",
			    key, atom ? atom : type);
			return DL_ECONF;
		}
		snprintf(jkey, sizeof jkey, "%s", key);
	} else if (strcmp(path, "$.pushover") == 0) {
		snprintf(jkey, sizeof jkey, "pushover.%s", key);
	} else if (strcmp(path, "$.downloaders") == 0) {
		struct conf_downloader *dl = NULL;
		char *id;
		int r;

		if (*key == '\0' || key[strcspn(key, " \t")] != '\0') {
			msg_err("settings row 'monitoring': downloaders.'%s': bad name "
			    "(expected a downloader id without blanks)", key);
			return DL_ECONF;
		}
		if ((id = conf_lower_dup(key)) == NULL)
			return DL_ENOMEM;
		for (i = 0; i < c->ndls; i++)
			if (strcmp(c->dls[i].id, id) == 0)
				dl = &c->dls[i];
		if (dl == NULL && conf_dl_add(p, id, 0, &dl) != DL_OK) {
			free(id);
			return DL_ENOMEM;
		}
		free(id);
		snprintf(jkey, sizeof jkey, "downloaders.%s", key);
		r = json_apply(c, &conf_dkeys[DK_ENABLED], dl, &p->d[dl - c->dls][DK_ENABLED],
		    jkey, type, atom);
		return r;
	} else {
		return DL_OK;   /* inside something already reported or refused */
	}
	for (i = 0; i < CONF_NGKEYS; i++)
		if (conf_gkeys[i].json != NULL && strcmp(conf_gkeys[i].json, jkey) == 0)
			return json_apply(c, &conf_gkeys[i], c, &p->g[i], jkey, type, atom);
	msg_verbose("settings row 'monitoring': unknown key '%s' ignored", jkey);
	return DL_OK;
}

/*
 * Runs fn over the members of JSON object text json (parsed by SQLite's
 * json_tree in a private in-memory database).  row names the settings row
 * in messages.
 */
typedef int (*json_fn)(struct conf_priv *p, const char *path, const char *key,
    const char *type, const char *atom);

static int
json_walk(struct conf_priv *p, const char *row, const char *json, json_fn fn)
{
	static const char sql[] =
	    "SELECT path, key, type, atom, parent IS NULL FROM json_tree(?1) ORDER BY id";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, ret = DL_OK;

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, json ? json : "", -1, SQLITE_STATIC) != SQLITE_OK) {
		msg_err("settings row '%s': %s", row, db ? sqlite3_errmsg(db) : "out of memory");
		ret = DL_ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *atom = (const char *)sqlite3_column_text(st, 3);

		if (sqlite3_column_int(st, 4)) {
			if (strcmp(type, "object") != 0) {
				msg_err("settings row '%s': not a JSON object", row);
				ret = DL_ECONF;
				goto out;
			}
			continue;
		}
		ret = fn(p, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), type, atom);
		if (ret != DL_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		msg_err("settings row '%s': not valid JSON (%s)", row, sqlite3_errmsg(db));
		ret = DL_ECONF;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/*
 * conf_overlay_json: see conf.h.  An error leaves c partly overlaid; the
 * caller stops then (exit 2), so nothing is acted upon.
 */
int
conf_overlay_json(struct conf *c, const char *json)
{
	return json_walk(PRIV(c), "monitoring", json, json_member);
}

static int
json_pushover_member(struct conf_priv *p, const char *path, const char *key,
    const char *type, const char *atom)
{
	const struct kdef *k;
	char **field;

	if (strcmp(path, "$") != 0)
		return DL_OK;
	if (strcmp(key, "user_key") == 0)
		k = conf_gkey_find("pushover", "user");
	else if (strcmp(key, "api_token") == 0)
		k = conf_gkey_find("pushover", "token");
	else
		return DL_OK;   /* the application keeps other pushover settings there */
	if (strcmp(type, "null") == 0 || (strcmp(type, "text") == 0 && *atom == '\0'))
		return DL_OK;
	if (strcmp(type, "text") != 0) {
		/* not the secret's text: its type is safe to name, its value is not */
		msg_err("settings row 'pushover': %s: bad value of type %s (expected text)",
		    key, type);
		return DL_ECONF;
	}
	field = FIELD(&p->pub, k, char *);
	if (*field != NULL)
		return DL_OK;   /* the file's credentials win */
	if ((*field = strdup(atom)) == NULL)
		return DL_ENOMEM;
	p->g[k - conf_gkeys].origin = ORIGIN_DATABASE;
	p->g[k - conf_gkeys].row = "pushover";
	return DL_OK;
}

/* conf_overlay_pushover_json: see conf.h. */
int
conf_overlay_pushover_json(struct conf *c, const char *json)
{
	return json_walk(PRIV(c), "pushover", json, json_pushover_member);
}

