/** Whether new operations are recorded for `backward()`. */
let enabled = true;

/** Whether operations are being recorded for gradients right now. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without recording operations, as `torch.no_grad()`: results have no gradFn. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with recording on, even inside `noGrad`, as `torch.enable_grad()`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** @internal Sets the mode and returns the previous one (for hot paths that avoid a closure). */
export function setGradEnabled(mode: boolean): boolean {
  const prev = enabled;
  enabled = mode;
  return prev;
}
