// Fault tier: finds processes by command line in /proc (Linux), e.g. the worker running an algorithm.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live (non-zombie) processes whose command line contains every one of `parts`. */
export function findProcesses(parts: string[]): number[] {
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
    if (parts.every((p) => cmdline.includes(p))) pids.push(Number(entry));
  }
  return pids;
}

/** The Python worker processes serving algorithm `name` (runner plus its entry file). */
export const pythonWorkerPids = (name: string): number[] => findProcesses(['beacon_runner.py', `src/${name}.py`]);
