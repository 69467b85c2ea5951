/*
 * ca-render: show a session's records to a person.
 *
 * Reads any records on stdin and writes, on stdout, something for people:
 * a live terminal view (text), or a whole report (markdown, html).  The
 * terminal view is written as records arrive, so a streamed turn appears
 * as it is generated; the reports are written once the input ends, so
 * each turn's parts, images and summary can sit together even when the
 * turns of a parallel run arrive interleaved.
 *
 * Everything shown came from the model, its code, the server or a file,
 * so every format neutralises what could act on its reader: control
 * bytes on a terminal, markup in HTML.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-render.h"

static void CA_NORETURN
usage(const char *why)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		ca_warn("%s", why);
	fprintf(fp, "usage: %s [-hrsv] [-C when] [-d dir] [-f format] "
	    "[-o file] [--no-thinking]\n"
	    "       %s --version\n", ca_prog, ca_prog);
	if (why != NULL)
		exit(CA_EX_USAGE);
	fputs(
	    "  -f, --format=FORMAT  text (default), markdown or html\n"
	    "  -C, --color=WHEN     auto (default), always or never\n"
	    "  -d, --dir=DIR        html: embed only images inside DIR "
	    "(default .)\n"
	    "  -o, --output=FILE    write to FILE; links are relative to it\n"
	    "  -r, --raw            only the model's final text of each turn\n"
	    "                       (with structured output: its JSON alone)\n"
	    "      --no-thinking    leave thinking blocks out\n"
	    "  -s, --stdout         only what the code printed\n"
	    "  -v, --verbose        notes on standard error\n"
	    "  -h, --help           this help\n"
	    "      --version        print the version and exit\n", fp);
	exit(CA_EX_OK);
}

static const struct fmt *
pick_format(const char *s)
{
	static const struct {
		const char		*name;
		const struct fmt	*fmt;
	} formats[] = {
		{ .name = "text", .fmt = &fmt_text },
		{ .name = "markdown", .fmt = &fmt_md },
		{ .name = "md", .fmt = &fmt_md },
		{ .name = "html", .fmt = &fmt_html },
	};
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(s, formats[i].name) == 0)
			return formats[i].fmt;
	ca_usage("unknown format \"%s\" (text, markdown or html)", s);
}

static int
pick_color(const char *when)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (strcmp(when, "always") == 0)
		return 1;
	if (strcmp(when, "never") == 0)
		return 0;
	if (strcmp(when, "auto") != 0)
		ca_usage("unknown --color value \"%s\" (auto, always or never)",
		    when);
	return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* -o: write there, and link fetched files from there. */
static void
set_output(const char *path)
{
	const char *sl = strrchr(path, '/');

	if (*path == '\0' || freopen(path, "w", stdout) == NULL)
		ca_usage("-o %s:", path);
	if (sl == NULL)
		g.linkdir = ca_xstrdup(".");
	else {
		g.linkdir = ca_xstrdup(path);
		g.linkdir[sl - path + (sl == path)] = '\0';
	}
}

/* The options, into g. */
static void
parse_opts(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, 'r' },
		{ "no-thinking", no_argument, NULL, 'N' },
		{ "stdout", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, CA_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *when = "auto", *opath = NULL;
	int ch, sflag = 0;

	g.fmt = &fmt_text;
	while ((ch = getopt_long(argc, argv, ":C:d:f:ho:rsv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			when = optarg != NULL ? optarg : "always";
			break;
		case 'd':
			if (emb_dir(optarg) == -1)
				ca_usage("-d %s:", optarg);
			break;
		case 'f':
			g.fmt = pick_format(optarg);
			break;
		case 'h':
			usage(NULL);
		case 'o':
			opath = optarg;
			break;
		case 'r':
			g.raw = 1;
			break;
		case 'N':
			g.nothink = 1;
			break;
		case 's':
			sflag = 1;
			break;
		default:
			ca_opt_common(ch, argv, NULL);
		}
	}
	if (optind < argc)
		ca_usage("unexpected operand \"%s\": records come on standard "
		    "input", argv[optind]);
	if ((g.raw || sflag) && g.fmt != &fmt_text)
		ca_usage("-r and --stdout go with the text format only");
	if (g.raw && sflag)
		ca_usage("-r and --stdout exclude each other");
	if (opath != NULL)
		set_output(opath);
	g.tty = isatty(STDOUT_FILENO);
	g.color = pick_color(when) && g.fmt == &fmt_text && !g.raw &&
	    !sflag;
	if (sflag)
		g.fmt = &fmt_raw;
}

static void
cleanup(void)
{
	turns_free();
	free(g.linkdir);
	finfo_freeall();
	emb_close();
	show_free();
}

int
main(int argc, char *argv[])
{
	struct ca_status xst = { 0 };	/* the exit-status rule's tally */
	struct ca_reader *rd;
	struct ca_rec rec;
	long nrec = 0, nbad = 0;
	int r, doc, status;

	ca_setprog(argv[0], usage);
	ca_norecords = 1;	/* a report: its refusals write no record */
	parse_opts(argc, argv);
	doc = g.fmt == &fmt_md || g.fmt == &fmt_html;
	rd = ca_reader_new(stdin, CA_STDIN);
	while ((r = ca_reader_next(rd, &rec)) != 0) {
		if (r == -1) {
			nbad++;
			continue;
		}
		nrec++;
		ca_status_rec(&xst, rec.json);
		if (doc)
			doc_collect(&rec);
		else {
			stream_record(&rec);
			ca_out_flush();
		}
	}
	if (ca_reader_failed(rd))
		nbad++;
	ca_reader_free(rd);
	if (doc)
		doc_render();
	else
		stream_end();
	ca_note("%ld record%s, %ld turn%s, %ld bad line%s", nrec,
	    nrec == 1 ? "" : "s", turn_count(), turn_count() == 1 ? "" : "s",
	    nbad, nbad == 1 ? "" : "s");
	/* An interrupted turn fails for good: its transcript stays cut. */
	if (nbad > 0 || turn_interrupted() > 0)
		ca_status_add(&xst, CA_EX_FAIL);
	status = ca_status_exit(&xst);
	cleanup();
	return ca_finish(status);
}

