"""Run a command in a real pseudo-terminal and answer its prompts, as a person would type.

usage: terminal.py ANSWERS_JSON CMD [ARGS...]
ANSWERS_JSON is a list of [prompt, reply]: when `prompt` appears in the output (after the
previous reply), `reply` is typed. Prints everything the terminal showed; exits with the
command's exit code (or 124 if it stops answering for 60 s).
"""
import json, os, pty, select, sys

answers = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

shown = b""
searched_from = 0
while True:
    ready, _, _ = select.select([fd], [], [], 60)
    if not ready:
        os.kill(pid, 9)
        sys.stdout.write(shown.decode("utf-8", "replace"))
        sys.exit(124)
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the command closed the terminal
        break
    if not data:
        break
    shown += data
    if answers and answers[0][0].encode() in shown[searched_from:]:
        prompt, reply = answers.pop(0)
        searched_from = len(shown)
        os.write(fd, reply.encode())

_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
