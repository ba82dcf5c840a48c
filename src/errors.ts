/**
 * An error the user caused and can fix: printed as one sentence, never with a stack
 * trace, and mapped to exit code 2 (nothing was sent). `problems` lists every issue
 * found when there is more than one.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly problems: { where: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;
