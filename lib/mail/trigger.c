/*
 * NAME		trigger - wake up pickup and qmgr
 * DESCRIPTION	mail_trigger("public/qmgr", "I") connects to the service
 *		socket (relative to the queue directory, where every Postern
 *		program works) and writes the bytes.  A missing service is not
 *		an error for the caller: the periodic wakeup covers it.
 */
#include <string.h>

#include "util/sock.h"
#include "trigger.h"

/* mail_trigger - send request bytes to a service; 0 or -1 */
int
mail_trigger(const char *service, const char *bytes)
{
	return sock_trigger(service, bytes, strlen(bytes), 2);
}
