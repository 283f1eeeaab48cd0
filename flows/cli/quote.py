"""``varimac quote``: refresh the blocks of documents that quote result files verbatim."""

from flows.cli import UsageError

HELP = "refresh each <!-- PATH: begin/end --> block of the documents with PATH's current text"


def add_arguments(parser):
    parser.add_argument("docs", nargs="+", metavar="DOC", help="Markdown file to refresh")


def run(args):
    from flows.reports.quote import quote
    for doc in args.docs:
        try:
            paths = quote(doc)
        except (OSError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        print(f"{doc}: {', '.join(paths) or 'no quoted blocks'}")
    return 0
