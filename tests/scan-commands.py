#!/usr/bin/python3
"""scan-commands.py FILE...: the external commands that shell scripts run.

A static scan for tests/check-deps.sh. Prints one line per use,
"NAME<TAB>FILE:LINE", for every word in command position: the first word
of each simple command (after assignments, redirections and keywords such as
`if`, `!`, `then`), of each pipe stage, `$(...)`, `(...)` and `` `...` ``, the
command that wrapper commands run (`exec`, `command -v`, `env`, `timeout`,
`xargs`, `flock`, `unshare`, `nsenter`, `setsid`, `strace`, `ip netns exec
NS`, ...) and that the tests' own helpers run (`check NAME CMD`, `jtrue
FILTER CMD`, `vm_ns NS CMD`, ...), the code of `sh -c '...'` and `bash -c
"..."`, `$(...)` inside double quotes, and the body of a here-document that
starts with a `#!.../sh` or `#!.../bash` line (a script written by the
script). Shell functions defined in any of the FILES, builtins and keywords
are left out, and so are words that are not a plain command name or an
absolute path (`$VMNET`, `"$tool"`, `./x`).

What a static scan cannot see (a command named in a variable, a list in a
`for` loop, a program a C test spawns, a Python module, an Ansible plugin)
is listed by hand in tests/check-deps.sh.
"""
import re
import subprocess
import sys

KEYWORDS_THEN_COMMAND = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "{", "}"}
KEYWORDS_SKIP = {"fi", "done", "esac", "in", "]]"}
# Commands whose arguments are not commands: their whole segment is skipped
# after the name (for/case/select header, declarations).
HEADERS = {"for", "select", "case", "function"}

# Wrappers that run a command: name -> options taking a value (the command is
# the first word after the options and after `positional` more words).
WRAPPERS = {
    "exec": ({"-a"}, 0),
    "nohup": (set(), 0),
    "setsid": (set(), 0),
    "nice": ({"-n"}, 0),
    "ionice": ({"-c", "-n"}, 0),
    "stdbuf": ({"-i", "-o", "-e"}, 0),
    "env": ({"-u", "-C", "-S"}, 0),
    "sudo": ({"-u", "-g"}, 0),
    "timeout": ({"-k", "-s", "--kill-after", "--signal"}, 1),
    "xargs": ({"-I", "-n", "-P", "-L", "-d", "-s", "-E", "-a"}, 0),
    "flock": ({"-w", "-E", "--timeout", "--conflict-exit-code"}, 1),
    "unshare": ({"-S", "-G", "--setuid", "--setgid", "--propagation"}, 0),
    "nsenter": ({"-t", "--target", "-S", "-G", "--net", "--mount"}, 0),
    "strace": ({"-o", "-e", "-p", "-s", "-u", "-P", "-a", "-b", "-E", "-I", "-O", "-S", "-X"}, 0),
    "setpriv": (set(), 0),
    "chroot": (set(), 1),
    "taskset": (set(), 1),
    "watch": ({"-n"}, 0),
    # the tests' own helpers (tests/netns/lib.sh, tests/vm/lib.sh, tests/lib/jcheck.sh, ...)
    "check": (set(), 1),          # check NAME CMD...
    "quiet": (set(), 0),          # quiet CMD...
    "without": (set(), 0),        # without CMD... (t-no-libvirt)
    "vm_assert": (set(), 0),
    "vm_assert_not": (set(), 0),
    "vm_ns": (set(), 1),          # vm_ns NS CMD...
    "vm_wait_until": (set(), 1),  # vm_wait_until SECS CMD...
    "vm_on_exit": (set(), 0),
    "jtrue": ({"--arg", "--argjson"}, 1),  # jtrue [--arg N V]... FILTER CMD...
    "jread": (set(), 1),
    "_jcheck_run": (set(), 0),
    "passes": (set(), 1),
    "fails": (set(), 1),
    "expect": (set(), 2),         # expect NAME STATUS CMD... (CLI tests)
}
TWO_VALUE_OPTS = {"jtrue": {"--arg", "--argjson"}}
SHELLS = {"sh", "bash", "dash", "su"}
NAME_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.+:-]*|/[A-Za-z0-9_./+-]+)$")
ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
REDIR_RE = re.compile(r"^(?:[0-9]*|&)(?:>>?|<<?<?|>&|<&|&>>?|>\|)")
HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
OPS = ["&&", "||", ";;", "$(", "|&", "|", ";", "&", "(", ")", "`"]


class Word:
    def __init__(self, text, quoted, line):
        self.text = text      # the word with quotes removed (expansions kept as written)
        self.quoted = quoted  # the word was one quoted string (its content may be code)
        self.line = line


def lex(src, line0, subs):
    """Tokens of shell source SRC (first line LINE0): Word objects and operator
    strings. Code found inside double-quoted strings ($(...)) goes to SUBS
    as (text, line)."""
    toks = []
    i, n, line = 0, len(src), line0
    cur, cur_quoted, in_word, cur_line = [], False, False, line0

    def flush():
        nonlocal cur, cur_quoted, in_word
        if in_word:
            toks.append(Word("".join(cur), cur_quoted, cur_line))
        cur, cur_quoted, in_word = [], False, False

    def match_paren(j):
        """j just after '$(' or '(': index of the matching ')'."""
        depth, q = 1, None
        while j < n:
            c = src[j]
            if q:
                if c == "\\" and q == '"':
                    j += 2
                    continue
                if c == q:
                    q = None
            elif c in "'\"":
                q = c
            elif c == "\\":
                j += 2
                continue
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        return n

    while i < n:
        c = src[i]
        if c == "\n":
            flush()
            toks.append(";")
            line += 1
            i += 1
            continue
        if c == "\\" and i + 1 < n and src[i + 1] == "\n":
            line += 1
            i += 2
            continue
        if c in " \t":
            flush()
            i += 1
            continue
        if c == "#" and not in_word:
            while i < n and src[i] != "\n":
                i += 1
            continue
        if c == "'":
            j = src.find("'", i + 1)
            j = n if j < 0 else j
            if not in_word:
                cur_line, cur_quoted = line, True
            else:
                cur_quoted = False
            cur.append(src[i + 1:j])
            line += src.count("\n", i, j)
            in_word = True
            i = j + 1
            if i < n and src[i] not in " \t\n;|&)":
                cur_quoted = False
            continue
        if c == '"':
            j, buf = i + 1, []
            while j < n and src[j] != '"':
                if src[j] == "\\" and j + 1 < n:
                    buf.append(src[j:j + 2])
                    j += 2
                    continue
                if src.startswith("$((", j):
                    k = match_paren(j + 2)
                    buf.append(src[j:k + 1])
                    j = k + 1
                    continue
                if src.startswith("$(", j):
                    k = match_paren(j + 2)
                    subs.append((src[j + 2:k], line + src.count("\n", i, j)))
                    buf.append(src[j:k + 1])
                    j = k + 1
                    continue
                j += 1
                buf.append(src[j - 1])
            if not in_word:
                cur_line, cur_quoted = line, True
            else:
                cur_quoted = False
            cur.append("".join(buf).replace('\\"', '"').replace("\\\\", "\\").replace("\\$", "$"))
            line += src.count("\n", i, j)
            in_word = True
            i = j + 1
            if i < n and src[i] not in " \t\n;|&)":
                cur_quoted = False
            continue
        if c == "\\" and i + 1 < n:
            if not in_word:
                cur_line = line
            cur.append(src[i + 1])
            in_word = True
            i += 2
            continue
        if src.startswith("$((", i) or (src.startswith("((", i) and not in_word):
            k = match_paren(i + (3 if c == "$" else 2))
            if not in_word:
                cur_line = line
            cur.append("$((...))")
            in_word = True
            line += src.count("\n", i, k)
            i = k + 2 if k + 1 < n and src[k + 1] == ")" else k + 1
            continue
        if src.startswith("${", i):
            depth, j = 0, i
            while j < n:
                if src[j] == "{":
                    depth += 1
                elif src[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if not in_word:
                cur_line = line
            cur.append(src[i:j + 1])
            in_word = True
            i = j + 1
            continue
        if c in "<>" and src.startswith("(", i + 1):
            # process substitution <(...) / >(...): its content is code
            flush()
            toks.append("$(")
            i += 2
            continue
        op = next((o for o in OPS if src.startswith(o, i)), None)
        if op == "(" and in_word and cur and "".join(cur).endswith("="):
            # NAME=( ... ): an array assignment, words not commands
            k = match_paren(i + 1)
            cur.append("(...)")
            line += src.count("\n", i, k)
            i = k + 1
            continue
        if op:
            if op == "(" and in_word and src.startswith("()", i):
                # name() { ...: a function definition
                flush()
                toks.append("()")
                i += 2
                continue
            if op == "&" and i + 1 < n and src[i + 1] == ">":
                pass  # &> redirection: part of a word
            elif op in ("&", "|") and in_word and cur and cur[-1].endswith((">", "<")):
                pass  # >& or >| redirection
            else:
                flush()
                toks.append(op)
                i += len(op)
                continue
        if not in_word:
            cur_line = line
        cur.append(c)
        in_word = True
        i += 1
    flush()
    return toks


def strip_heredocs(text):
    """TEXT with here-document bodies blanked (line numbers kept), and the
    bodies that are shell scripts themselves, as (body, first line)."""
    lines = text.split("\n")
    out, scripts, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        for m in HEREDOC_RE.finditer(line):
            if line.startswith("<<<", m.start()) or (m.start() and line[m.start() - 1] == "<"):
                continue  # a here-string, <<<WORD
            strip, delim = m.group(1) == "-", m.group(3)
            body_start, body = i, []
            while i < len(lines) and (lines[i].lstrip("\t") if strip else lines[i]) != delim:
                body.append(lines[i])
                out.append("")
                i += 1
            if i < len(lines):
                out.append("")
                i += 1
            if body and re.match(r"#!\S*/(ba)?sh\b|#!/usr/bin/env (ba)?sh\b", body[0]):
                scripts.append(("\n".join(body), body_start + 1))
    return "\n".join(out), scripts


class Scanner:
    def __init__(self, skip_names):
        self.skip = skip_names  # the shell's builtins and keywords
        self.uses = []  # (name, file, line)
        self.functions = set()

    def code(self, text, fname, line0):
        subs = []
        toks = lex(text, line0, subs)
        self.tokens(toks, fname)
        for sub, ln in subs:
            self.code(sub, fname, ln)

    def tokens(self, toks, fname):
        # split into simple commands; remember which ones end with an
        # unmatched ')' (a case pattern, not a command)
        segs, cur, depth = [], [], 0
        for j, t in enumerate(toks):
            if isinstance(t, Word):
                cur.append(t)
                continue
            if t == "(" and len(cur) == 1 and j + 1 < len(toks) and toks[j + 1] == ")":
                # NAME ( ) { ...: a function definition
                self.functions.add(cur[0].text)
                cur = []
                depth += 1
                continue
            if t in ("$(", "("):
                depth += 1
                segs.append([cur, False, t])
                cur = []
            elif t == ")":
                pattern = depth == 0
                if depth:
                    depth -= 1
                segs.append([cur, pattern, t])
                cur = []
                if pattern:
                    # "a | b | c)": every alternative of the pattern
                    k = len(segs) - 2
                    while k >= 0 and segs[k][2] == "|":
                        segs[k][1] = True
                        k -= 1
            elif t == "()":
                # NAME() { ...
                if cur:
                    self.functions.add(cur[-1].text)
                cur = []
            else:
                segs.append([cur, False, t])
                cur = []
        segs.append([cur, False, None])
        for words, pattern, _ in segs:
            if words and not pattern:
                self.command(words, fname)

    def command(self, words, fname):
        i = 0
        while i < len(words):
            w = words[i].text
            if ASSIGN_RE.match(w) and not words[i].quoted:
                i += 1
            elif REDIR_RE.match(w) and not words[i].quoted:
                # a bare operator ("> file") takes the next word too
                i += 2 if re.fullmatch(r"[0-9&]*(>>?|<<?|>\||&>>?)", w) else 1
            elif w in KEYWORDS_THEN_COMMAND and not words[i].quoted:
                i += 1
            else:
                break
        if i >= len(words):
            return
        first = words[i]
        name = first.text
        if name in HEADERS or name in KEYWORDS_SKIP or name in ("[[", "[", "test", "(("):
            if name == "function" and i + 1 < len(words):
                self.functions.add(words[i + 1].text)
            return
        if name.startswith("$((") or name == "$((...))":
            return
        self.use(name, fname, first.line)
        rest = words[i + 1:]
        # ip netns exec NS CMD...
        if name == "ip" and len(rest) >= 3 and rest[0].text == "netns" and rest[1].text == "exec":
            self.command(rest[3:], fname)
            return
        if name == "command":
            args = [w for w in rest if not w.text.startswith("-")]
            if args:
                self.use(args[0].text, fname, args[0].line)
            return
        if name in SHELLS:
            for k, w in enumerate(rest):
                if w.text == "-c" and k + 1 < len(rest):
                    self.code(rest[k + 1].text, fname, rest[k + 1].line)
                    return
            return
        if name == "flock":
            for k, w in enumerate(rest):
                if w.text == "-c" and k + 1 < len(rest):
                    self.code(rest[k + 1].text, fname, rest[k + 1].line)
                    return
        if name in WRAPPERS:
            opts, positional = WRAPPERS[name]
            two = TWO_VALUE_OPTS.get(name, set())
            k = 0
            while k < len(rest):
                t = rest[k].text
                if name == "env" and ASSIGN_RE.match(t):
                    k += 1
                elif t in two:
                    k += 3
                elif t in opts:
                    k += 2
                elif t.startswith("-") and not rest[k].quoted and t != "-":
                    k += 1
                else:
                    break
            k += positional
            if k < len(rest):
                self.command(rest[k:], fname)

    def use(self, name, fname, line):
        if not NAME_RE.match(name) or name in self.skip:
            return
        self.uses.append((name, fname, line))

    def file(self, path, label):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        text, scripts = strip_heredocs(text)
        self.code(text, label, 1)
        for body, ln in scripts:
            if body.startswith("#!") and "busybox" in body.split("\n", 1)[0]:
                continue  # the initramfs: busybox's applets, not this machine's commands
            self.code(body, label, ln)


def main():
    args = sys.argv[1:]
    labels = {}
    if args and args[0] == "--strip":
        prefix = args[1]
        args = args[2:]
        labels = {a: a[len(prefix):].lstrip("/") if a.startswith(prefix) else a for a in args}
    builtins = subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True,
                              text=True, check=True).stdout.split()
    sc = Scanner(set(builtins))
    for a in args:
        sc.file(a, labels.get(a, a))
    for name, fname, line in sc.uses:
        if name in sc.functions:
            continue
        print(f"{name}\t{fname}:{line}")


if __name__ == "__main__":
    main()
