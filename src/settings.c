/* settings.c — see settings.h. */
#include "settings.h"

#include <stdlib.h>

#include "util.h"

int
settings_apply(struct conf *c, struct store *st)
{
	char *json = NULL;
	int err;

	if ((err = store_setting_get(st, "monitoring", &json)) != DL_OK)
		return err;
	if (json != NULL)
		err = conf_overlay_json(c, json);
	free(json);
	json = NULL;
	if (err != DL_OK)
		return err;
	if ((err = store_setting_get(st, "pushover", &json)) != DL_OK)
		return err;
	if (json != NULL)
		err = conf_overlay_pushover_json(c, json);
	free(json);
	return err;
}
