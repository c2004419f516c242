// What a pool needs to sandbox its workers on this host, or what the host lacks: the tools, user
// namespaces, the cgroup hierarchy (v1 or v2), the interpreters' install folders and this host's
// own addresses (which sandboxes with network_access "full" must never reach).
import { networkInterfaces } from 'node:os';
import { dirname } from 'node:path';
import type { Config } from '../config';
import { DEFAULT_TOOLS, interpreterPaths, missingSandboxParts } from './sandbox-command';
import { CgroupParent, detectCgroups } from './worker-cgroup';
import type { PoolSandbox } from './worker-sandbox';

export function buildPoolSandbox(w: Config['workers'], callback: PoolSandbox['callback']): { sandbox: PoolSandbox } | { missing: string[] } {
  const asRoot = process.getuid?.() === 0;
  const missing = missingSandboxParts(DEFAULT_TOOLS, asRoot ? 70000 : undefined);
  const layout = detectCgroups(w.cgroupRoot);
  if ('missing' in layout) missing.push(layout.missing);
  else if (missing.length === 0) {
    const hostAddresses = Object.values(networkInterfaces()).flat().flatMap((a) => (a && a.family === 'IPv4' ? [a.address] : []));
    return {
      sandbox: {
        tools: DEFAULT_TOOLS,
        cgroups: new CgroupParent(layout, w.cpuShares * w.maxTotal),
        callback,
        runDir: dirname(callback.socketPath),
        limits: { diskMb: w.diskMb, tmpMb: w.tmpMb, maxOpenFiles: w.maxOpenFiles, maxProcesses: w.maxProcesses, cpuShares: w.cpuShares },
        readOnlyPaths: interpreterPaths([w.pythonBin, w.rscriptBin, process.execPath]), // Node runs JavaScript workers
        hostAddresses,
      },
    };
  }
  return { missing };
}
