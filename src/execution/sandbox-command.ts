// How a sandboxed worker is started: bubblewrap (Debian's `bwrap`) with every namespace unshared,
// inside the worker's cgroup, as the worker's uid. See docs/security.md for what the view inside
// contains and docs/decisions.md for why bubblewrap.
//
//   sh (joins the cgroup, as root) -> setpriv (drops to the worker uid) -> bwrap -> [pid 1: bwrap]
//      -> [pid 2: sh, copies the source into /work, sets rlimits, execs the runner]
//
// The runner is therefore always pid 2 of the sandbox's PID namespace; everything else in the
// worker's cgroup with a higher namespace pid was started by algorithm code.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Paths as the algorithm sees them inside its sandbox. */
export const INSIDE = Object.freeze({
  work: '/work', // the worker's own writable folder (size-capped tmpfs)
  source: '/opt/beacon/source', // the build's files, read-only; copied into /work at start
  runtimes: '/opt/beacon/runtimes', // Beacon's runner files, read-only
  forwardPort: 9000, // 127.0.0.1:9000 in the sandbox's own network namespace reaches the callback socket
});

export interface SandboxLimits {
  diskMb: number; // size of /work
  tmpMb: number; // size of the one scratch tmpfs, /dev/shm, that /tmp links to
  maxOpenFiles: number;
}
export interface SandboxCommandSpec {
  bwrap: string;
  procsFiles: string[]; // cgroup.procs files of the worker's cgroup
  uid?: number; // run as this uid/gid (the service runs as root)
  hostWorkDir: string; // staged source, bound read-only
  runtimesDir: string;
  resolvConf?: string; // host file bound at /etc/resolv.conf (full network only)
  readOnlyPaths: string[]; // interpreter installs outside /usr
  limits: SandboxLimits;
  argv: string[]; // the runner command, in inside paths
}

// Read-only files from /etc that interpreters need (dynamic linker cache, R's configuration,
// certificates for outbound https, time zone). Nothing else of the host's /etc is visible.
const ETC = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/R', '/etc/ssl', '/etc/ca-certificates', '/etc/localtime', '/etc/nsswitch.conf', '/etc/python3', '/etc/python3.11'];

const INNER_SCRIPT = `exec 4>&- 5<&-; cp -R ${INSIDE.source}/. ${INSIDE.work}/ || exit 95; ulimit -n "$1" || exit 97; shift; exec "$@"`;
const CGROUP_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 96; shift; done; shift; exec "$@"';

export function sandboxCommand(s: SandboxCommandSpec): { command: string; args: string[] } {
  const mb = (n: number) => String(n * 1024 * 1024);
  const bw: string[] = [
    '--unshare-all', '--die-with-parent', '--new-session', '--hostname', 'beacon-worker',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib',
  ];
  if (existsSync('/usr/lib64')) bw.push('--symlink', 'usr/lib64', '/lib64');
  for (const p of ETC) bw.push('--ro-bind-try', p, p);
  if (s.resolvConf) bw.push('--ro-bind', s.resolvConf, '/etc/resolv.conf');
  for (const p of s.readOnlyPaths) bw.push('--ro-bind', p, p);
  bw.push(
    '--proc', '/proc', '--dev', '/dev',
    // One scratch tmpfs for /dev/shm and /tmp (a link to it): the between-call check is one fstat.
    '--size', mb(s.limits.tmpMb), '--tmpfs', '/dev/shm', '--symlink', '/dev/shm', '/tmp',
    '--size', mb(s.limits.diskMb), '--tmpfs', INSIDE.work,
    '--ro-bind', s.hostWorkDir, INSIDE.source,
    '--ro-bind', s.runtimesDir, INSIDE.runtimes,
    '--chdir', INSIDE.work,
    '--info-fd', '4', '--block-fd', '5',
    '--', '/bin/sh', '-c', INNER_SCRIPT, 'beacon-sandbox', String(s.limits.maxOpenFiles), ...s.argv,
  );
  const drop = s.uid !== undefined ? ['/usr/bin/setpriv', `--reuid=${s.uid}`, `--regid=${s.uid}`, '--clear-groups'] : [];
  return { command: '/bin/sh', args: ['-c', CGROUP_SCRIPT, 'beacon-cgroup', ...s.procsFiles, '--', ...drop, s.bwrap, ...bw] };
}

/**
 * An interpreter installed outside /usr (pyenv, a custom R) must be visible read-only: its install
 * prefix (two levels above the real binary, e.g. /root/.pyenv/versions/3.11.7), and nothing more.
 */
export function interpreterPaths(bins: string[]): string[] {
  const out = new Set<string>();
  for (const bin of bins) {
    let real: string;
    try {
      real = realpathSync(bin.includes('/') ? bin : which(bin) ?? bin);
    } catch {
      continue;
    }
    if (real.startsWith('/usr/')) continue;
    out.add(dirname(dirname(real)));
  }
  return [...out];
}

function which(name: string): string | undefined {
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

export interface HostTools {
  bwrap: string;
  setpriv: string;
  nsenter: string;
  socat: string;
  slirp4netns: string;
  iptablesRestore: string;
}
export const DEFAULT_TOOLS: HostTools = Object.freeze({
  bwrap: '/usr/bin/bwrap',
  setpriv: '/usr/bin/setpriv',
  nsenter: '/usr/bin/nsenter',
  socat: '/usr/bin/socat',
  slirp4netns: '/usr/bin/slirp4netns',
  iptablesRestore: '/usr/sbin/iptables-restore',
});

/**
 * What this host lacks to build the sandbox (empty: everything is there). Checks the tools, user
 * namespaces, /dev/net/tun, and that bwrap really creates a sandbox here (as the worker uid when
 * the service runs as root).
 */
export function missingSandboxParts(tools: HostTools, probeUid: number | undefined): string[] {
  const missing: string[] = [];
  const need = (path: string, what: string) => {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      missing.push(`${what} (${path})`);
    }
  };
  need(tools.bwrap, 'bubblewrap');
  need(tools.nsenter, 'nsenter (util-linux)');
  need(tools.socat, 'socat');
  need(tools.slirp4netns, 'slirp4netns');
  need(tools.iptablesRestore, 'iptables-restore (iptables)');
  if (probeUid !== undefined) need(tools.setpriv, 'setpriv (util-linux)');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  let userns = 0;
  try {
    userns = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'));
  } catch {
    // no such file: treated as unavailable
  }
  if (!(userns > 0)) missing.push('user namespaces (/proc/sys/user/max_user_namespaces is 0)');
  if (missing.length === 0) {
    const drop = probeUid !== undefined ? [tools.setpriv, `--reuid=${probeUid}`, `--regid=${probeUid}`, '--clear-groups'] : [];
    const argv = [...drop, tools.bwrap, '--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--proc', '/proc', '--', '/bin/true'];
    if (existsSync('/usr/lib64')) argv.splice(argv.indexOf('--proc'), 0, '--symlink', 'usr/lib64', '/lib64');
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000, env: {} });
    if (r.status !== 0) missing.push(`a working bubblewrap sandbox (bwrap failed: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()})`);
  }
  return missing;
}
