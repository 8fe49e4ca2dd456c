/*
 * settings.h — the database's settings rows over the configuration file:
 * precedence built-in defaults < INI file < settings row "monitoring"; the
 * row "pushover" supplies credentials the file lacks.
 *
 * Error convention: see util.h.  A bad row is DL_ECONF, reported naming the
 * row and key (conf_overlay_json).
 */
#ifndef DLMON_SETTINGS_H
#define DLMON_SETTINGS_H

#include "conf.h"
#include "store.h"

/* settings_apply: overlay st's rows "monitoring" and "pushover" on c. */
int settings_apply(struct conf *c, struct store *st);

#endif
