/*
 * NAME		dict_mysql - the mysql: lookup client (MariaDB/MySQL)
 * DESCRIPTION	mysql:/etc/postern/file names a configuration file in
 *		main.cf form with the parameters of mysql_table(5): hosts,
 *		user, password, dbname, query (or the old select_field,
 *		table, where_field, additional_conditions), result_format,
 *		domain, expansion_limit, option_file, option_group,
 *		require_result_set, tls_cert_file, tls_key_file,
 *		tls_CAfile, tls_CApath, tls_ciphers, tls_verify_cert,
 *		idle_interval, retry_interval.  The file, the templates and
 *		the host list are checked when the table is opened; the
 *		templates, the result joining and the domain restriction
 *		are dict_query's.
 *
 *		One connection per open table, made at the first lookup
 *		that needs the server (a query that the domain list or a
 *		template suppresses is never sent) and kept.  Hosts are
 *		tried UNIX sockets first, then TCP, each group in random
 *		order; a host that cannot be reached is skipped for
 *		retry_interval seconds.  A connection idle for longer than
 *		idle_interval seconds is closed before the next query.  A
 *		query that fails on a kept connection for a reason that is
 *		the connection's (lost, gone away, shut down) is tried once
 *		more on a new connection.
 *
 *		Every row and every non-NULL column of the first result set
 *		goes through result_format; values are joined with ",".  An
 *		empty answer is "not found".  Anything else that goes wrong
 *		(no server, SQL error, no result set when one is required,
 *		more than one result set, a NUL byte, too many or too long
 *		values) is a lookup error naming the host.
 * SECURITY	Key parts go into queries through mysql_real_escape_string()
 *		on the live connection (its character set), never as
 *		written; multiple statements are not enabled.  Results are
 *		read row by row: memory is bounded by the packet limit
 *		(MY_PACKET_MAX) and DICT_VALUE_MAX.  Connect, read and write
 *		timeouts bound every step.  The file may hold a password:
 *		it is read when the table is opened, before a daemon drops
 *		privileges, so it can be readable by root only.
 * SEE ALSO	doc/tables.md, mysql_table(5), dict_query.h
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_mysql.h"
#include "dict_query.h"
#include "match.h"

#define MY_CONNECT_TIMEOUT	10		/* seconds per host */
#define MY_READ_TIMEOUT		30		/* seconds per read */
#define MY_WRITE_TIMEOUT	30		/* seconds per write */
#define MY_PACKET_MAX		(4UL * 1024 * 1024)	/* one row */
#define MY_RESULTS_MAX		16		/* result sets to skip */
#define MY_INTERVAL_MAX		(86400L * 365)

struct dict_mysql {
	struct dict dict;
	struct dq_file *file;		/* holds the strings below */
	const char *user;
	const char *password;
	const char *dbname;
	const char *option_file;
	const char *option_group;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_CAfile;
	const char *tls_CApath;
	const char *tls_ciphers;
	int	 tls_verify_cert;
	int	 require_result_set;
	char	*query;
	const char *result_format;
	long	 expansion_limit;
	long	 idle_interval;		/* seconds */
	long	 retry_interval;	/* seconds */
	struct match_list *domains;	/* NULL: any key */
	struct myh_list hosts;
	MYSQL	*db;			/* the connection, or NULL */
	struct myh_host *host;		/* its host */
	int64_t	 used;			/* ms, its last query */
	int	 quote_failed;
};

/* Open tables: the client library is released when the last closes. */
static int my_tables;

static const char *const my_known[] = {
	"hosts", "user", "password", "dbname", "query", "result_format",
	"domain", "expansion_limit", "option_file", "option_group",
	"require_result_set", "tls_cert_file", "tls_key_file", "tls_CAfile",
	"tls_CApath", "tls_ciphers", "tls_verify_cert", "idle_interval",
	"retry_interval", "select_field", "table", "where_field",
	"additional_conditions", NULL
};

/* myh_free - forget a host list */
void
myh_free(struct myh_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].name);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* myh_port - a decimal port 1..65535; 0 when bad */
static unsigned
myh_port(const char *p, size_t len)
{
	unsigned n = 0;
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		n = n * 10 + (unsigned)(p[i] - '0');
	}
	return n <= 65535 ? n : 0;
}

/* myh_one - parse one entry (len bytes at p) into h; 0, or -1 with why */
static int
myh_one(const char *p, size_t len, struct myh_host *h, struct buf *why)
{
	const char *name, *colon, *end = p + len;
	size_t nlen;

	memset(h, 0, sizeof(*h));
	if (len > MYH_NAME_MAX) {
		buf_printf(why, "hosts entry longer than %d bytes", MYH_NAME_MAX);
		return -1;
	}
	if (len >= 5 && strncasecmp(p, "unix:", 5) == 0) {
		if (len == 5 || p[5] != '/') {
			buf_printf(why, "hosts entry \"%.*s\": need unix:/path",
			    (int)len, p);
			return -1;
		}
		h->is_unix = 1;
		h->name = xstrndup(p + 5, len - 5);
		h->text = xstrndup(p, len);
		return 0;
	}
	name = p;
	if (len >= 5 && strncasecmp(p, "inet:", 5) == 0)
		name = p + 5;
	if (*name == '[') {
		const char *rb = memchr(name, ']', (size_t)(end - name));

		if (rb == NULL || rb == name + 1 ||
		    (rb + 1 < end && rb[1] != ':')) {
			buf_printf(why, "hosts entry \"%.*s\": bad [address]",
			    (int)len, p);
			return -1;
		}
		colon = rb + 1 < end ? rb + 1 : NULL;
		name++;
		nlen = (size_t)(rb - name);
	} else {
		colon = memchr(name, ':', (size_t)(end - name));
		nlen = (size_t)((colon ? colon : end) - name);
	}
	if (nlen == 0) {
		buf_printf(why, "hosts entry \"%.*s\": no host name",
		    (int)len, p);
		return -1;
	}
	if (colon && (h->port = myh_port(colon + 1,
	    (size_t)(end - colon - 1))) == 0) {
		buf_printf(why, "hosts entry \"%.*s\": bad port", (int)len, p);
		return -1;
	}
	h->name = xstrndup(name, nlen);
	h->text = xstrndup(p, len);
	return 0;
}

/*
 * myh_parse - the "hosts" value into l (emptied first); 0, or -1 with a
 * reason (l is then empty)
 */
int
myh_parse(const char *value, struct myh_list *l, struct buf *why)
{
	const char *p = value, *start;
	struct myh_host h;

	l->v = NULL;
	l->n = 0;
	for (;;) {
		while (*p && strchr(SEPARATORS, *p) != NULL)
			p++;
		if (*p == 0)
			return 0;
		start = p;
		while (*p && strchr(SEPARATORS, *p) == NULL)
			p++;
		if (l->n == MYH_MAX) {
			buf_printf(why, "more than %d hosts", MYH_MAX);
			myh_free(l);
			return -1;
		}
		if (myh_one(start, (size_t)(p - start), &h, why) < 0) {
			myh_free(l);
			return -1;
		}
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = h;
	}
}

/*
 * myh_order - the indexes of the hosts to try now, in order, into idx
 * (room for l->n): UNIX sockets first, then TCP, each group shuffled with
 * rnd; hosts down until after now are left out.  Returns the count.
 */
size_t
myh_order(const struct myh_list *l, int64_t now, unsigned (*rnd)(void),
    size_t *idx)
{
	size_t n = 0, first, i, j, t;
	int pass;

	for (pass = 1; pass >= 0; pass--) {
		first = n;
		for (i = 0; i < l->n; i++)
			if (l->v[i].is_unix == pass && l->v[i].down_until <= now)
				idx[n++] = i;
		/* Fisher-Yates over this group. */
		for (i = n; i > first + 1; i--) {
			j = first + rnd() % (i - first);
			t = idx[i - 1];
			idx[i - 1] = idx[j];
			idx[j] = t;
		}
	}
	return n;
}

/* my_random - a random number for the host order */
static unsigned
my_random(void)
{
	unsigned r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)time(NULL) ^ (unsigned)getpid();
	return r;
}

/* my_conn_error - is this error the connection's rather than the query's? */
static int
my_conn_error(unsigned e)
{
	return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) ||
	    e == ER_SERVER_SHUTDOWN || e == ER_CONNECTION_KILLED ||
	    (e >= ER_NET_PACKET_TOO_LARGE && e <= ER_NET_WRITE_INTERRUPTED);
}

/* my_disconnect - close the connection */
static void
my_disconnect(struct dict_mysql *m)
{
	if (m->db)
		mysql_close(m->db);
	m->db = NULL;
	m->host = NULL;
}

/* my_str - NULL for an empty setting, as the client library wants */
static const char *
my_str(const char *s)
{
	return s && *s ? s : NULL;
}

/* my_options - connection options for host h */
static void
my_options(struct dict_mysql *m, MYSQL *db, const struct myh_host *h)
{
	unsigned int ct = MY_CONNECT_TIMEOUT, rt = MY_READ_TIMEOUT,
	    wt = MY_WRITE_TIMEOUT;
	unsigned long packet = MY_PACKET_MAX;
	enum mysql_protocol_type proto = MYSQL_PROTOCOL_SOCKET;
	my_bool verify = m->tls_verify_cert ? 1 : 0;

	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &wt);
	mysql_options(db, MYSQL_OPT_MAX_ALLOWED_PACKET, &packet);
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (my_str(m->option_file))
		mysql_options(db, MYSQL_READ_DEFAULT_FILE, m->option_file);
	if (my_str(m->option_group))
		mysql_options(db, MYSQL_READ_DEFAULT_GROUP, m->option_group);
	if (h->is_unix)
		mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
	if (my_str(m->tls_cert_file) || my_str(m->tls_key_file) ||
	    my_str(m->tls_CAfile) || my_str(m->tls_CApath) ||
	    my_str(m->tls_ciphers))
		mysql_ssl_set(db, my_str(m->tls_key_file),
		    my_str(m->tls_cert_file), my_str(m->tls_CAfile),
		    my_str(m->tls_CApath), my_str(m->tls_ciphers));
	mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
}

/* my_connect - connect to one of the hosts; 0, or -1 with a reason */
static int
my_connect(struct dict_mysql *m, struct buf *why)
{
	size_t idx[MYH_MAX], n, i;
	int64_t now = time_mono_ms();
	struct myh_host *h;
	MYSQL *db;
	char clean[301];

	n = myh_order(&m->hosts, now, my_random, idx);
	if (n == 0) {
		buf_printf(why, "no server to try: every host failed within "
		    "the last %ld s (retry_interval)", m->retry_interval);
		return -1;
	}
	for (i = 0; i < n; i++) {
		h = &m->hosts.v[idx[i]];
		if ((db = mysql_init(NULL)) == NULL) {
			buf_sets(why, "cannot initialise the MySQL client");
			return -1;
		}
		my_options(m, db, h);
		if (mysql_real_connect(db, h->is_unix ? "localhost" : h->name,
		    my_str(m->user), my_str(m->password), my_str(m->dbname),
		    h->port, h->is_unix ? h->name : NULL,
		    CLIENT_MULTI_RESULTS) != NULL) {
			m->db = db;
			m->host = h;
			m->used = now;
			h->down_until = 0;
			return 0;
		}
		if (why->len > 0)
			buf_puts(why, "; ");
		buf_printf(why, "connect to %s: %s", h->text,
		    str_sane(mysql_error(db), clean, 301));
		mysql_close(db);
		h->down_until = now + m->retry_interval * 1000;
	}
	return -1;
}

/* my_quote - SQL quoting on the live connection (dq_quote_fn) */
static void
my_quote(struct buf *out, const char *s, size_t len, void *ctx)
{
	struct dict_mysql *m = ctx;
	unsigned long n;

	buf_reserve(out, 2 * len + 1);
	n = mysql_real_escape_string(m->db, out->p + out->len, s,
	    (unsigned long)len);
	if (n == (unsigned long)-1 || n > 2 * len) {
		m->quote_failed = 1;
		n = 0;
	}
	out->len += n;
	out->p[out->len] = 0;
}

/* my_error - a reason for the connection's last error */
static void
my_error(struct dict_mysql *m, const char *what, struct buf *why)
{
	char clean[501];

	/* Server text may echo key bytes; it travels to proxymap clients. */
	buf_printf(why, "%s on %s: %s", what, m->host->text,
	    str_sane(mysql_error(m->db), clean, sizeof(clean)));
}

/*
 * my_skip_results - read the result sets after the first; 0, or -1 with a
 * reason when there is another with rows, or an error (connection closed)
 */
static int
my_skip_results(struct dict_mysql *m, struct buf *why)
{
	MYSQL_RES *res;
	int i, st;

	for (i = 0; i < MY_RESULTS_MAX && mysql_more_results(m->db); i++) {
		if ((st = mysql_next_result(m->db)) > 0) {
			my_error(m, "query failed", why);
			my_disconnect(m);
			return -1;
		}
		if (st < 0)
			return 0;
		if ((res = mysql_store_result(m->db)) != NULL) {
			mysql_free_result(res);
			buf_printf(why, "query on %s returned more than one "
			    "result set", m->host->text);
			my_disconnect(m);
			return -1;
		}
		if (mysql_field_count(m->db) != 0) {
			my_error(m, "reading result", why);
			my_disconnect(m);
			return -1;
		}
	}
	if (mysql_more_results(m->db)) {
		buf_printf(why, "query on %s returned more than %d results",
		    m->host->text, MY_RESULTS_MAX);
		my_disconnect(m);
		return -1;
	}
	return 0;
}

/*
 * my_run - send the query and read its answer into value: DICT_FOUND,
 * DICT_NOTFOUND or DICT_ERROR with a reason; *conn is set when the error
 * is the connection's (which is then closed)
 */
static int
my_run(struct dict_mysql *m, const struct buf *q, const char *key,
    struct buf *value, struct buf *why, int *conn)
{
	struct dq_result r;
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *lens;
	unsigned nf, i;
	int bad = 0, rc;

	*conn = 0;
	if (mysql_real_query(m->db, q->p, (unsigned long)q->len) != 0) {
		my_error(m, "query failed", why);
		if (my_conn_error(mysql_errno(m->db))) {
			*conn = 1;
			my_disconnect(m);
		}
		return DICT_ERROR;
	}
	m->used = time_mono_ms();
	if ((res = mysql_use_result(m->db)) == NULL) {
		if (mysql_field_count(m->db) != 0) {
			my_error(m, "reading result", why);
			*conn = my_conn_error(mysql_errno(m->db));
			my_disconnect(m);
			return DICT_ERROR;
		}
		if (my_skip_results(m, why) < 0)
			return DICT_ERROR;
		if (m->require_result_set) {
			buf_printf(why, "query on %s returned no result set "
			    "(require_result_set = yes)", m->host->text);
			return DICT_ERROR;
		}
		return DICT_NOTFOUND;
	}
	dq_result_init(&r, value, m->result_format, key, m->expansion_limit);
	nf = mysql_num_fields(res);
	while (!bad && (row = mysql_fetch_row(res)) != NULL) {
		lens = mysql_fetch_lengths(res);
		for (i = 0; i < nf && !bad; i++) {
			if (row[i] == NULL)
				continue;
			if (dq_result_add(&r, row[i], lens[i], why) < 0) {
				buf_printf(why, " (query on %s)", m->host->text);
				bad = 1;
			}
		}
	}
	if (bad) {
		/* Do not read the rest of a large answer: drop it. */
		mariadb_cancel(m->db);
		mysql_free_result(res);
		my_disconnect(m);
		return DICT_ERROR;
	}
	if (mysql_errno(m->db) != 0) {
		my_error(m, "reading result", why);
		*conn = my_conn_error(mysql_errno(m->db));
		mysql_free_result(res);
		my_disconnect(m);
		return DICT_ERROR;
	}
	mysql_free_result(res);
	if (my_skip_results(m, why) < 0)
		return DICT_ERROR;
	rc = value->len > 0 ? DICT_FOUND : DICT_NOTFOUND;
	return rc;
}

/* dict_mysql_lookup - ask the server */
static int
dict_mysql_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_mysql *m = (struct dict_mysql *)d;
	struct buf q = BUF_INIT;
	int rc, attempt, reused, conn;

	if ((rc = dq_domain_ok(m->domains, key, why)) <= 0)
		return rc < 0 ? DICT_ERROR : DICT_NOTFOUND;
	if (!dq_result_key_fits(m->result_format, key))
		return DICT_NOTFOUND;
	/* A suppressed query is known before there is a connection. */
	if ((rc = dq_expand_query(m->query, key, NULL, NULL, &q, why)) <= 0) {
		buf_free(&q);
		return rc < 0 ? DICT_ERROR : DICT_NOTFOUND;
	}
	for (attempt = 0;; attempt++) {
		if (m->db && time_mono_ms() - m->used >
		    m->idle_interval * 1000)
			my_disconnect(m);
		reused = m->db != NULL;
		if (m->db == NULL && my_connect(m, why) < 0) {
			rc = DICT_ERROR;
			break;
		}
		m->quote_failed = 0;
		rc = dq_expand_query(m->query, key, my_quote, m, &q, why);
		if (rc >= 0 && m->quote_failed) {
			buf_printf(why, "cannot quote the key for %s",
			    m->host->text);
			rc = -1;
		}
		if (rc <= 0) {
			rc = rc < 0 ? DICT_ERROR : DICT_NOTFOUND;
			break;
		}
		rc = my_run(m, &q, key, value, why, &conn);
		if (rc != DICT_ERROR || !conn || !reused || attempt > 0)
			break;
		/* The server may have closed an idle connection. */
		buf_reset(why);
	}
	buf_free(&q);
	return rc;
}

/* dict_mysql_close - close the connection and free the table */
static void
dict_mysql_close(struct dict *d)
{
	struct dict_mysql *m = (struct dict_mysql *)d;

	my_disconnect(m);
	myh_free(&m->hosts);
	if (m->domains)
		match_list_free(m->domains);
	free(m->query);
	dq_file_free(m->file);
	free(m);
	if (--my_tables == 0)
		mysql_library_end();
}

/* my_legacy_query - the query from the pre-Postfix 2.2 parameters */
static char *
my_legacy_query(struct dq_file *f, struct buf *why)
{
	const char *sel = dq_str(f, "select_field", ""),
	    *tab = dq_str(f, "table", ""), *where = dq_str(f, "where_field", ""),
	    *more = dq_str(f, "additional_conditions", "");
	struct buf q = BUF_INIT;

	if (!*sel || !*tab || !*where) {
		buf_printf(why, "%s: no \"query\" given (nor all of "
		    "select_field, table and where_field)", dq_file_name(f));
		return NULL;
	}
	buf_printf(&q, "SELECT %s FROM %s WHERE %s = '%%s' %s", sel, tab, where,
	    more);
	return buf_steal(&q);
}

/* my_settings - read the file's settings into m; 0, or -1 with a reason */
static int
my_settings(struct dict_mysql *m, struct buf *why)
{
	struct dq_file *f = m->file;
	const char *q, *hosts;
	struct buf tmp = BUF_INIT;

	dq_file_unknown(f, my_known);
	hosts = dq_str(f, "hosts", "");
	if (myh_parse(hosts, &m->hosts, &tmp) < 0) {
		buf_printf(why, "%s: %s", dq_file_name(f), buf_str(&tmp));
		buf_free(&tmp);
		return -1;
	}
	buf_free(&tmp);
	m->user = dq_str(f, "user", "");
	m->password = dq_str(f, "password", "");
	m->dbname = dq_str(f, "dbname", "");
	m->option_file = dq_str(f, "option_file", "");
	m->option_group = dq_str(f, "option_group", "client");
	m->tls_cert_file = dq_str(f, "tls_cert_file", "");
	m->tls_key_file = dq_str(f, "tls_key_file", "");
	m->tls_CAfile = dq_str(f, "tls_CAfile", "");
	m->tls_CApath = dq_str(f, "tls_CApath", "");
	m->tls_ciphers = dq_str(f, "tls_ciphers", "");
	m->result_format = dq_str(f, "result_format", "%s");
	if ((q = dq_str(f, "query", NULL)) != NULL && *q)
		m->query = xstrdup(q);
	else if ((m->query = my_legacy_query(f, why)) == NULL)
		return -1;
	if (dq_template_check(m->query, why) < 0 ||
	    dq_template_check(m->result_format, why) < 0) {
		buf_printf(why, " in %s", dq_file_name(f));
		return -1;
	}
	if (dq_long(f, "expansion_limit", 0, 0, 0, &m->expansion_limit,
	    why) < 0 ||
	    dq_long(f, "idle_interval", 60, 0, MY_INTERVAL_MAX,
	    &m->idle_interval, why) < 0 ||
	    dq_long(f, "retry_interval", 60, 0, MY_INTERVAL_MAX,
	    &m->retry_interval, why) < 0 ||
	    dq_bool(f, "require_result_set", 1, &m->require_result_set,
	    why) < 0 ||
	    dq_bool(f, "tls_verify_cert", 0, &m->tls_verify_cert, why) < 0)
		return -1;
	m->domains = dq_domain_list(f);
	if (m->hosts.n == 0) {
		log_warn("%s: no hosts given, trying localhost",
		    dq_file_name(f));
		(void)myh_parse("localhost", &m->hosts, why);
	}
	return 0;
}

/*
 * dict_mysql_open - mysql:/path/name; reads and checks the file, no
 * connection is made yet
 */
struct dict *
dict_mysql_open(const char *name, int flags, struct buf *why)
{
	struct dict_mysql *m;
	struct dq_file *f;

	if (*name != '/' && *name != '.') {
		buf_printf(why, "mysql:%s: need the path of a table file "
		    "(parameters in main.cf are not supported)", name);
		return NULL;
	}
	if ((f = dq_file_read(name, why)) == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->file = f;
	m->dict.flags = flags;
	m->dict.lookup = dict_mysql_lookup;
	m->dict.close = dict_mysql_close;
	my_tables++;
	if (my_settings(m, why) < 0) {
		dict_mysql_close(&m->dict);
		return NULL;
	}
	return &m->dict;
}
