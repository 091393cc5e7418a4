// Children of `ringleader demo` stop with it: the demo spawns them with stdin a pipe and this env var set; when the demo
// goes away for any reason (even SIGKILL) the pipe closes and the child stops as if it got SIGTERM (a node leaves).

export const STOP_WITH_PARENT_ENV = 'RINGLEADER_STOP_WITH_PARENT';

/** When started by the demo (env var set), sends this process SIGTERM once stdin closes. */
export function stopWithParent(): void {
  if (process.env[STOP_WITH_PARENT_ENV] !== '1') return;
  delete process.env[STOP_WITH_PARENT_ENV];
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    process.kill(process.pid, 'SIGTERM');
  };
  process.stdin.on('end', fire);
  process.stdin.on('close', fire);
  process.stdin.on('error', fire);
  process.stdin.on('data', () => undefined);
  process.stdin.resume();
  // Belt and braces: a process whose parent died is re-parented (to init or a subreaper), which also tells us, even
  // if something else still holds the write end of our stdin pipe.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) fire();
  }, 500).unref();
}
