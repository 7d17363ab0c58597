"""The console walkthrough closing the generated command reference (docs/commands.md)."""

WALKTHROUGH = """\
## Console walkthrough

`newsbot console` reads `/news …` lines from standard input and prints the replies; with
`--poll` it also polls the feeds on schedule and prints alerts as they come. `--user`,
`--channel` and `--admin` set who is typing where; a line may start with
`--as user@channel` and/or `--admin` to speak as someone else.

```console
$ newsbot console --user asha --channel newsroom
/news subscribe framework-agreement military-exercises
/news digest daily 08:00 Asia/Kolkata
/news quiet 22:00-07:00 Asia/Kolkata
/news subscribe framwork
unknown topic `framwork`; did you mean `framework-agreement`?
Usage: `/news subscribe <topic…>`
--as ops@newsroom --admin /news admin threshold relevance 0.6 --dry-run
--as ops@newsroom --admin /news admin schedule poll 10m
--as ops@newsroom --admin /news admin audit
```
"""
