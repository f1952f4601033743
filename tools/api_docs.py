#!/usr/bin/env python3
"""The C API's reference pages, docs/api/, and its man pages.

    python3 tools/api_docs.py write        regenerate docs/api/*.md
    python3 tools/api_docs.py check        fail when docs/api/ is stale
    python3 tools/api_docs.py man OUTDIR [--version V]
                                           section-3 man pages from docs/api/

The pages are made from include/rs_idc.h, the header cbindgen generates from
the doc comments of src/ffi/*.rs, and nothing is written by hand in them
except each function's example, docs/api/examples/FUNCTION.c (a whole C
program, which `make test-install` compiles against the installed library).
A function's comment is read by paragraphs: "Threads:", "Pointers:" and
"Returns ..." paragraphs, lines that start with the function's argument
names ("ids, n: ..."), and the description (everything else; its first
sentence, up to a colon, is the page's one-line summary). Every function
must have a Threads: paragraph, a Pointers: paragraph when it takes a
pointer, a Returns paragraph unless it returns void, and a line for each
argument; the script fails otherwise. The groups of the index page are the
header's banners (GROUPS in build.rs). "Added in" is the oldest version of
CHANGELOG.md whose "Added" section names the function (0.1.0 when none
does). The man pages are made from the Markdown pages, so `man 3
rs_idc_get_token` says what docs/api/rs_idc_get_token.md says.

Needs Python 3.6 or newer and nothing else.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "rs_idc.h")
CHANGELOG = os.path.join(ROOT, "CHANGELOG.md")
CARGO_TOML = os.path.join(ROOT, "Cargo.toml")
DOCS = os.path.join(ROOT, "docs", "api")
EXAMPLES = os.path.join(DOCS, "examples")
FIRST_VERSION = "0.1.0"


class Fail(Exception):
    pass


# --- Reading the header ----------------------------------------------------


class Function:
    def __init__(self, name, declaration, comment, group):
        self.name = name
        self.declaration = declaration  # as the header has it, without RS_IDC_EXPORT
        self.comment = comment  # the doc comment's lines, without " * "
        self.group = group
        head, _, rest = " ".join(declaration.split()).partition("(")
        self.returns_void = head.split()[0] == "void" and "*" not in head
        self.params = parameters(rest.rsplit(")", 1)[0])
        self.takes_pointers = any("*" in p or p.endswith("_fn") for p, _ in self.params)


def parameters(text):
    """(declaration, name) of each parameter in a parameter list."""
    if text.strip() == "void":
        return []
    params, depth, start = [], 0, 0
    for i, c in enumerate(text + ","):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            param = text[start:i].strip()
            pointer_to_function = re.search(r"\(\s*\*\s*(\w+)\s*\)", param)
            name = pointer_to_function.group(1) if pointer_to_function else re.findall(r"\w+", param)[-1]
            params.append((param, name))
            start = i + 1
    return params


def comment_lines(block):
    """The text of a /** ... */ block, one string per line."""
    lines = []
    for line in block:
        if line.strip() in ("/**", "*/"):
            continue
        if line.startswith(" * "):
            lines.append(line[3:])
        elif line.rstrip() == " *":
            lines.append("")
        else:
            raise Fail("unexpected comment line: %r" % line)
    return lines


class Header:
    def __init__(self, text):
        lines = text.split("\n")
        end = lines.index(" */")
        self.preamble = [l[3:] if l.startswith(" * ") else "" for l in lines[1:end]]
        self.functions = []
        self.types = []  # (declaration, comment lines)
        self.statuses = []  # (name, value, comment lines)
        self.groups = []  # (title, [Function])
        comment, i = None, end + 1
        while i < len(lines):
            line = lines[i]
            if line.startswith("/* ====="):
                title = lines[i + 1][3:].strip()
                self.groups.append((title, []))
                i += 3
                continue
            if line == "/**":
                j = lines.index(" */", i)
                comment = comment_lines(lines[i : j + 1])
                i = j + 1
                continue
            if comment is not None and line:
                j = i
                if line.startswith("typedef struct {"):
                    while not lines[j].startswith("}"):
                        j += 1
                while not line.startswith("#define ") and not lines[j].rstrip().endswith(";"):
                    j += 1
                code = lines[i : j + 1]
                i = j + 1
                self.item(code, comment)
                comment = None
                continue
            i += 1
        if not self.functions:
            raise Fail("no functions found in %s" % HEADER)

    def item(self, code, comment):
        first = code[0]
        if first.startswith("#define "):
            _, name, value = first.split(None, 2)
            if name == "RS_IDC_OK" or re.match(r"RS_IDC_E[A-Z]+$", name):
                self.statuses.append((name, value.strip("()"), comment))
        elif first.startswith("RS_IDC_EXPORT"):
            if first == "RS_IDC_EXPORT":
                code = code[1:]
            else:
                code = [first[len("RS_IDC_EXPORT ") :]] + code[1:]
            declaration = "\n".join(code)
            name = re.findall(r"(\w+)\s*\(", code[0])[0]
            if not self.groups:
                raise Fail("%s comes before the first group banner" % name)
            function = Function(name, declaration, comment, self.groups[-1][0])
            self.functions.append(function)
            self.groups[-1][1].append(function)
        elif first.startswith("typedef"):
            self.types.append(("\n".join(code), comment))


# --- A function's comment, by sections -------------------------------------


def paragraphs(lines):
    out, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    return out


ARGUMENT = re.compile(r"^(\w+(?:, \w+)*): ")


def sentence(text, names):
    """A labelled paragraph's text without its label, as a sentence: an
    argument's name first stays as it is (it is set as code), any other
    word is capitalised."""
    word = re.match(r"\w+", text)
    if word and word.group(0) in names:
        return text
    return text[0].upper() + text[1:]


class Sections:
    """A function's comment split into the sections of its page."""

    def __init__(self, function):
        self.description, self.arguments, self.returns = [], [], []
        self.threads, self.pointers = [], []
        names = {name for _, name in function.params}
        named = set()
        for para in paragraphs(function.comment):
            first = para[0]
            argument = ARGUMENT.match(first)
            if first.startswith("Threads: "):
                self.threads.append([sentence(first[len("Threads: ") :], names)] + para[1:])
            elif first.startswith("Pointers: "):
                self.pointers.append([sentence(first[len("Pointers: ") :], names)] + para[1:])
            elif first.startswith("Returns "):
                self.returns.append(para)
            elif argument and set(argument.group(1).split(", ")) <= names:
                for line in para:
                    match = ARGUMENT.match(line)
                    if match and set(match.group(1).split(", ")) <= names:
                        named.update(match.group(1).split(", "))
                        self.arguments.append((match.group(1).split(", "), [line[match.end() :]]))
                    else:
                        self.arguments[-1][1].append(line)
            else:
                self.description.append(para)
        problems = []
        if not self.description:
            problems.append("no description")
        if not self.threads:
            problems.append('no "Threads:" paragraph')
        if function.takes_pointers and not self.pointers:
            problems.append('no "Pointers:" paragraph')
        if not function.returns_void and not self.returns:
            problems.append('no "Returns ..." paragraph')
        for missing in sorted(names - named):
            problems.append('no line "%s: ..." for the argument %s' % (missing, missing))
        if problems:
            raise Fail(
                "%s: the doc comment (src/ffi/) has %s" % (function.name, "; ".join(problems))
            )

    def summary(self):
        """The first sentence of the description, up to a colon."""
        text = " ".join(" ".join(self.description[0]).split())
        sentence = re.split(r"(?<=[a-z0-9)\"])\. ", text + " ", 1)[0].rstrip(". ")
        sentence = sentence.split(": ", 1)[0]
        return sentence[0].lower() + sentence[1:]


# --- Markdown --------------------------------------------------------------

CODE_WORD = re.compile(r"\b\w+\(\)|\bRS_IDC_[A-Z0-9_]+\*?|(?<![\w)*])\*\w+")


def inline(text, lead_names=()):
    """One line of comment text as Markdown: function calls, macros and
    dereferenced arguments (*out) as code, other asterisks escaped; an
    argument's name in lead_names that starts the line, too."""
    lead = re.match(r"\w+", text)
    if lead and lead.group(0) in lead_names:
        return "`%s`%s" % (lead.group(0), inline(text[lead.end() :]))
    out, last = [], 0
    for match in CODE_WORD.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append("`%s`" % match.group(0))
        last = match.end()
    out.append(escape(text[last:]))
    line = "".join(out)
    # What would start a block at the start of a line stays text.
    return re.sub(r"^(\s*)(\d+)\. ", r"\1\2\\. ", re.sub(r"^(\s*)([#>+])", r"\1\\\2", line))


def escape(text):
    return re.sub(r"([\\*<`])", r"\\\1", text)


def markdown_paragraph(para, lead_names=()):
    """A paragraph: a code block when every line is indented (a diagram or
    a table in the comment), else text whose lines keep their breaks."""
    if all(line.startswith("  ") for line in para):
        return ["```text"] + [line[2:] for line in para] + ["```"]
    return [inline(para[0], lead_names)] + [inline(line) for line in para[1:]]


def blocks(paras, lead_names=()):
    out = []
    for para in paras:
        out += markdown_paragraph(para, lead_names) + [""]
    return out


def link(name):
    return "[%s(3)](%s.md)" % (name, name)


def added_in(changelog):
    """The version that added each function, by CHANGELOG.md's Added sections."""
    version, section, found = None, None, {}
    for line in changelog.split("\n"):
        heading = re.match(r"## \[([^\]]+)\]", line)
        if heading:
            version, section = heading.group(1), None
        elif line.startswith("### "):
            section = line[4:].strip()
        elif version and section == "Added":
            for name in re.findall(r"(?<![\w])(rs_idc_\w+)\(", line):
                found[name] = version  # the file runs newest first: the last is the oldest
    return found


def added_text(version, released):
    if version == "Unreleased":
        return "Not in a release yet: it comes with the release after rs-idc %s (see CHANGELOG.md)." % released
    return "rs-idc %s." % version


def example_path(name):
    return os.path.join(EXAMPLES, name + ".c")


# The header's types, described in the index page.
TYPES = ("rs_idc_option", "rs_idc_client", "rs_idc_request", "rs_idc_open_url_fn")


def function_page(header, function, versions, released):
    sections = Sections(function)
    functions = [f.name for f in header.functions]
    page = [
        "<!-- Generated from include/rs_idc.h and docs/api/examples/%s.c by tools/api_docs.py: do not edit. -->"
        % function.name,
        "",
        "# %s" % function.name,
        "",
        "## Name",
        "",
        "%s - %s" % (function.name, inline(sections.summary())),
        "",
        "## Synopsis",
        "",
        "```c",
        "#include <rs_idc.h>",
        "",
        function.declaration,
        "```",
        "",
        "## Description",
        "",
    ]
    page += blocks(sections.description)
    page += ["## Arguments", ""]
    if sections.arguments:
        for args, lines in sections.arguments:
            label = ", ".join("`%s`" % a for a in args)
            page.append("- %s: %s" % (label, inline(lines[0])))
            page += ["  " + inline(line) for line in lines[1:]]
        page.append("")
    else:
        page += ["None.", ""]
    page += ["## Return value", ""]
    page += blocks(sections.returns) if sections.returns else ["None (void).", ""]
    names = {name for _, name in function.params}
    page += ["## Threads", ""] + blocks(sections.threads, names)
    page += ["## Pointers", ""]
    page += blocks(sections.pointers, names) if sections.pointers else ["It takes no pointer.", ""]
    path = example_path(function.name)
    if not os.path.exists(path):
        raise Fail("%s: no example, %s" % (function.name, os.path.relpath(path, ROOT)))
    with open(path) as f:
        example = f.read().rstrip("\n")
    page += ["## Example", "", "```c", example, "```", ""]
    page += ["## Added in", "", added_text(versions.get(function.name, FIRST_VERSION), released), ""]
    mentioned = []
    for line in function.comment:
        for name in re.findall(r"(rs_idc_\w+)\(\)", line):
            if name in functions and name != function.name and name not in mentioned:
                mentioned.append(name)
    group = [f.name for f in dict(header.groups)[function.group]]
    related = mentioned + [n for n in group if n != function.name and n not in mentioned]
    types = [t for t in TYPES if re.search(r"\b%s\b" % t, function.declaration)]
    see = [link(n) for n in related] + ["[%s](README.md#%s)" % (t, t) for t in types]
    page += ["## See also", "", ", ".join(see + ["[rs_idc(3)](README.md)"]), ""]
    return "\n".join(page).rstrip("\n") + "\n"


def index_page(header, released):
    page = [
        "<!-- Generated from include/rs_idc.h by tools/api_docs.py: do not edit. -->",
        "",
        "# rs_idc",
        "",
        "## Name",
        "",
        "rs_idc - the C API of rs-idc, Amazon Redshift IAM Identity Center auth tokens",
        "",
        "## Synopsis",
        "",
        "```c",
        "#include <rs_idc.h>",
        "```",
        "",
        "Link with `-lrs_idc` (`pkg-config --cflags --libs rs_idc`).",
        "",
        "## Description",
        "",
    ]
    preamble = paragraphs(header.preamble)
    # The preamble's first line names the header; the rest is the contract.
    page += blocks(preamble[1:])
    page += ["## Functions", "", "In the order of the header, one page each.", ""]
    for title, functions in header.groups:
        page += ["### %s" % title, ""]
        for function in functions:
            page.append("- %s: %s" % (link(function.name), inline(Sections(function).summary())))
        page.append("")
    page += [
        "## Statuses",
        "",
        "Every call that returns an int status returns `RS_IDC_OK` or one of these;",
        "the numbers never change, and new ones are appended.",
        "",
    ]
    for name, value, comment in header.statuses:
        text = " ".join(" ".join(comment).split())
        page.append("- `%s` (%s): %s" % (name, value, inline(text)))
    page += ["", "## Types", ""]
    for declaration, comment in header.types:
        names = re.findall(r"\(\*(\w+)\)|(\w+);$", declaration)[-1]
        name = names[0] or names[1]
        page += ["### %s" % name, "", "```c", declaration, "```", ""]
        page += blocks(paragraphs(comment))
    page += ["## See also", "", "The README's tutorial; `include/rs_idc.h`; CHANGELOG.md.", ""]
    return "\n".join(page).rstrip("\n") + "\n"


def cargo_version():
    with open(CARGO_TOML) as f:
        return re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)


def released_version(changelog):
    versions = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    return versions[0] if versions else FIRST_VERSION


def pages():
    """Every page of docs/api/ by file name, made afresh."""
    with open(HEADER) as f:
        header = Header(f.read())
    with open(CHANGELOG) as f:
        changelog = f.read()
    versions = added_in(changelog)
    released = released_version(changelog)
    out = {"README.md": index_page(header, released)}
    for function in header.functions:
        out[function.name + ".md"] = function_page(header, function, versions, released)
    names = {f.name for f in header.functions}
    for example in sorted(os.listdir(EXAMPLES)):
        if example.endswith(".c") and example[:-2] not in names:
            raise Fail("docs/api/examples/%s: no such function in the header" % example)
    return out


def committed():
    return {n: os.path.join(DOCS, n) for n in os.listdir(DOCS) if n.endswith(".md")}


def write():
    fresh = pages()
    for name, path in committed().items():
        if name not in fresh:
            os.remove(path)
            print("removed docs/api/%s" % name)
    for name, text in sorted(fresh.items()):
        path = os.path.join(DOCS, name)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            with open(path, "w") as f:
                f.write(text)
            print("wrote docs/api/%s" % name)


def check():
    fresh = pages()
    stale = []
    for name, path in sorted(committed().items()):
        if name not in fresh:
            stale.append("docs/api/%s names no function of the header" % name)
        elif open(path).read() != fresh[name]:
            stale.append("docs/api/%s differs from a fresh one" % name)
    for name in sorted(set(fresh) - set(committed())):
        stale.append("docs/api/%s is missing" % name)
    if stale:
        raise Fail("\n".join(stale + ["run: python3 tools/api_docs.py write"]))
    print("docs/api: %d pages, all up to date with include/rs_idc.h" % len(fresh))


# --- Man pages ---------------------------------------------------------------


def roff_text(text):
    """Markdown inline text as roff: code and links bold, escapes undone."""
    out, pos = [], 0
    pattern = re.compile(r"`([^`]*)`|\[([^\]]*)\]\(([^)]*)\)|\\([\\*<`#>+.])")
    for match in pattern.finditer(text):
        out.append(roff_escape(text[pos : match.start()]))
        code, label, _, escaped = match.groups()
        if code is not None:
            out.append("\\fB%s\\fR" % roff_escape(code, minus=True))
        elif label is not None:
            page = re.match(r"(\w+)\((\d)\)$", label)
            if page:
                out.append("\\fB%s\\fR(%s)" % (roff_escape(page.group(1)), page.group(2)))
            else:
                out.append("\\fB%s\\fR" % roff_escape(label))
        else:
            out.append(roff_escape(escaped))
        pos = match.end()
    out.append(roff_escape(text[pos:]))
    line = "".join(out)
    return "\\&" + line if line.startswith((".", "'")) else line


def roff_escape(text, minus=False):
    text = text.replace("\\", "\\e")
    if minus:
        return text.replace("-", "\\-")
    # A minus sign before a number (-1, -15) is a minus, not a hyphen.
    return re.sub(r"(?<![\w])-(?=\d)", r"\\-", text)


def roff_code(line):
    line = line.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + line if line.startswith((".", "'")) else line


def man_page(name, markdown, version):
    """A Markdown page of docs/api/ as a man page: the subset the pages use."""
    title = "rs_idc" if name == "README" else name
    out = [
        '.TH %s 3 "" "rs-idc %s" "rs-idc Library Functions"' % (title, version),
        ".\\\" Generated from docs/api/%s.md by tools/api_docs.py: do not edit." % name,
    ]
    lines = markdown.split("\n")
    i, section = 0, None
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!--") or line.startswith("# "):
            i += 1
            continue
        if line.startswith("## "):
            section = line[3:].strip()
            out.append(".SH %s" % section.upper())
            i += 1
            continue
        if line.startswith("### "):
            out.append(".SS %s" % roff_text(line[4:].strip()))
            i += 1
            continue
        if line.startswith("```"):
            j = lines.index("```", i + 1)
            out += [".PP", ".RS 4", ".nf"] + [roff_code(l) for l in lines[i + 1 : j]] + [".fi", ".RE"]
            i = j + 1
            continue
        if not line.strip():
            i += 1
            continue
        if section == "Name":
            summary = line.split(" - ", 1)
            out.append("%s \\- %s" % (roff_escape(summary[0]), roff_text(summary[1])))
            i += 1
            continue
        # A paragraph or a list: up to the next blank line.
        j = i
        while j < len(lines) and lines[j].strip() and not lines[j].startswith("```"):
            j += 1
        para = lines[i:j]
        i = j
        out += man_paragraph(para, section)
    return "\n".join(out) + "\n"


def man_paragraph(para, section):
    out = []
    first = True
    depth = 0
    for line in para:
        item = re.match(r"^( *)- (.*)$", line)
        if item:
            level = len(item.group(1)) // 2
            while depth > level + 1:
                out.append(".RE")
                depth -= 1
            if level >= depth and depth > 0:
                out.append(".RS")
                depth += 1
            elif depth == 0:
                depth = 1
            text = item.group(2)
            argument = re.match(r"^((?:`\w+`(?:, )?)+): (.*)$", text)
            entry = re.match(r"^(\[[^\]]+\]\([^)]+\)|`[^`]+`(?: \([^)]*\))?): (.*)$", text)
            if level == 0 and argument and section == "Arguments":
                out += [".TP", roff_text(argument.group(1)), roff_text(argument.group(2))]
            elif level == 0 and entry and section in ("Functions", "Statuses"):
                out += [".TP", roff_text(entry.group(1)), roff_text(entry.group(2))]
            else:
                out += [".IP \\(bu 2", roff_text(text)]
        else:
            if first:
                out.append(".PP")
            out.append(roff_text(line.strip()))
        first = False
    while depth > 1:
        out.append(".RE")
        depth -= 1
    return out


def man(outdir, version):
    os.makedirs(outdir, exist_ok=True)
    for name in sorted(committed()):
        with open(os.path.join(DOCS, name)) as f:
            markdown = f.read()
        stem = name[:-3]
        target = "rs_idc" if stem == "README" else stem
        text = man_page(stem, markdown, version)
        path = os.path.join(outdir, target + ".3")
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)


def main(argv):
    try:
        if argv[1:] == ["write"]:
            write()
        elif argv[1:] == ["check"]:
            check()
        elif len(argv) >= 3 and argv[1] == "man":
            version = argv[argv.index("--version") + 1] if "--version" in argv else cargo_version()
            man(argv[2], version)
        else:
            sys.stderr.write(__doc__)
            return 2
    except Fail as err:
        sys.stderr.write("api_docs: %s\n" % err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
