// Fault tier: finds processes by command line in /proc (Linux), e.g. the worker running an algorithm.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Pids of live (non-zombie) processes whose command line contains every one of `parts` and, when
 * `program` is given, whose argv[0] ends with it (a sandboxed worker's bwrap and setpriv carry the
 * runner's arguments too).
 */
export function findProcesses(parts: string[], program?: RegExp): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    let stat: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The state letter follows the parenthesised command name, which may itself hold spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z') continue;
    if (program && !program.test(cmdline.split(' ')[0])) continue;
    if (parts.every((p) => cmdline.includes(p))) pids.push(Number(entry));
  }
  return pids;
}

/** The Python runner processes serving algorithm `name` (the interpreter running the runner and its entry file). */
export const pythonWorkerPids = (name: string): number[] => findProcesses(['beacon_runner.py', `src/${name}.py`], /python[\d.]*$/);
