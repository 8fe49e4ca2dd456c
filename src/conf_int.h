/*
 * conf_int.h — the configuration's private declarations, shared by conf.c
 * (tables, values, freeing), conf_ini.c (the INI reader), conf_load.c
 * (conf_load), conf_json.c (the settings-row overlays) and conf_show.c
 * (lookups, show, get, set).  Not part of the API: see conf.h.
 */
#ifndef DLMON_CONF_INT_H
#define DLMON_CONF_INT_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "util.h"

enum ktype {
	KT_BOOL, KT_INT, KT_DOUBLE,
	KT_STR,      /* non-empty text */
	KT_OPTSTR,   /* text, empty = NULL */
	KT_PATH,     /* non-empty path, relative to the config file's folder */
	KT_OPTPATH,  /* path, empty = NULL */
	KT_URL,      /* http:// or https:// */
	KT_SECRET    /* text, empty = unset; never shown */
};

/* One scalar key: the table rows below drive the INI reader, the JSON
 * overlay, conf_show, conf_get and conf_set_check alike. */
struct kdef {
	const char *sect, *key;
	enum ktype type;
	size_t off;              /* into struct conf, or struct conf_downloader */
	double min, max;
	int min_excl;            /* min itself is not allowed */
	const char *json;        /* name in the settings row "monitoring", or NULL */
	const char *def;         /* default as text, parsed like a file value; NULL = none */
};

/* The key tables (conf.c): fixed sections, then [downloader NAME]. */
#define CONF_NGKEYS 23
#define CONF_NDKEYS 5
#define DK_ENABLED 0             /* conf_dkeys[DK_ENABLED] is "enabled" */
extern const struct kdef conf_gkeys[CONF_NGKEYS];
extern const struct kdef conf_dkeys[CONF_NDKEYS];

/* Where one value came from; file_line survives a database override. */
struct kstate {
	enum conf_origin origin;
	int file_line;
	const char *row;         /* settings row name when ORIGIN_DATABASE */
};

/* Lines of a source's single keys (0 = not set), for repeats and conf_show. */
struct src_lines {
	int files, start_at, time_format, downloader;
};

/*
 * What conf_load allocates: the public struct first, so that a struct conf *
 * from conf_load is also a struct conf_priv *.  A struct conf made by hand
 * (tests of other modules) is fine for the lookups, not for conf_show,
 * conf_get, the overlays or conf_free.
 */
struct conf_priv {
	struct conf pub;
	struct kstate g[CONF_NGKEYS];
	struct kstate (*d)[CONF_NDKEYS];  /* parallel to pub.dls */
	struct src_lines *s;         /* parallel to pub.sources */
};

#define PRIV(c) ((struct conf_priv *)(c))
#define CPRIV(c) ((const struct conf_priv *)(c))
#define FIELD(base, k, T) ((T *)(void *)((char *)(base) + (k)->off))

/*
 * conf_kset: parse text v for key k into the field of base.  dir, when not
 * NULL, is the folder relative paths are resolved against.  Returns 0, -1
 * for a bad value (nothing changed, nothing reported) or DL_ENOMEM.
 */
int conf_kset(const struct kdef *k, void *base, const char *v, const char *dir);

/* conf_kget: the value of key k in base appended to sb as text (secrets as
 * "(set)"/"(unset)").  DL_OK or DL_ENOMEM. */
int conf_kget(const struct kdef *k, const void *base, struct strbuf *sb);

/* conf_kexpect: what key k accepts, for "bad value" messages, into buf. */
void conf_kexpect(const struct kdef *k, char *buf, size_t sz);

/* Table lookups by name; NULL when unknown. */
const struct kdef *conf_gkey_find(const char *sect, const char *key);
const struct kdef *conf_dkey_find(const char *key);

/* conf_lower_dup: a malloc'ed lower-case copy of s (NULL: out of memory). */
char *conf_lower_dup(const char *s);

/* conf_dl_add: append a [downloader id] entry with the defaults (id made
 * lower-case, line 0 for one made by the settings row) to p; *out points
 * into p's array (valid until the next add).  DL_OK or DL_ENOMEM. */
int conf_dl_add(struct conf_priv *p, const char *id, int line,
    struct conf_downloader **out);

/* ------------------------------------ the loader (conf_ini.c, conf_load.c) */

#define CONF_NSECTIONS 4         /* [monitoring] [database] [pushover] [api] */

enum sect_kind { S_NONE, S_GLOBAL, S_SOURCE, S_DOWNLOADER };

/* One conf_load in progress: owned by conf_load_flags, fed line by line to
 * inih through conf_reader and conf_on_key. */
struct load {
	struct conf_priv *p;
	const char *path;        /* the configuration file, for messages */
	char *dir;               /* its folder, NULL when it is the cwd */
	FILE *fp;
	int line;                /* line last handed to inih */
	enum sect_kind kind;
	const char *gsect;       /* S_GLOBAL: section name */
	size_t idx;              /* S_SOURCE / S_DOWNLOADER: index */
	int seen[CONF_NSECTIONS];  /* header line of each fixed section */
	int err, err_line;       /* first error, reported after the parse */
	struct strbuf msg;
	char *buf;               /* getline buffer */
	size_t bufcap;
};

/* conf_fail: records the first error of ld, at its current line, as
 * "FILE:LINE: ..." (conf_ini.c); later ones are dropped. */
void conf_fail(struct load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* conf_reader: the ini_reader over ld->fp (conf_ini.c): one line per call;
 * NULL (end of input) at the first error of any kind. */
char *conf_reader(char *str, int num, void *stream);

/* conf_on_key: the inih handler; user is the struct load (conf_ini.c). */
int conf_on_key(void *user, const char *section, const char *name, const char *value);

/* conf_check_private_fd: fails ld unless the file open at fd (named path)
 * is closed to group and others (conf_load.c). */
void conf_check_private_fd(struct load *ld, int fd, const char *path);

#endif
