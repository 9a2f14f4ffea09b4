import { QuorumError } from '../core/errors.js';

/**
 * Input that no statistic can be computed from: mismatched lengths, NaN, values out of
 * range, fewer points than the model has parameters. `argument` names the offending
 * parameter as the caller wrote it.
 */
export class StatisticsInputError extends QuorumError {
  override readonly name: string = 'StatisticsInputError';
  readonly argument: string;
  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.argument = argument;
  }
}

/**
 * The maximum-likelihood scores do not exist (they run off to +/- infinity) because a
 * group of items never loses (or never wins) against the rest of its connected
 * component. A Gaussian prior (`prior: { sigma }`) makes the fit finite.
 *
 * `group` is the smallest such group found; when it has one member, that item never
 * lost (or never won) a comparison in its component.
 */
export class SeparationError extends QuorumError {
  override readonly name: string = 'SeparationError';
  readonly group: readonly (string | number)[];
  readonly direction: 'never-loses' | 'never-wins';
  constructor(
    group: readonly (string | number)[],
    direction: 'never-loses' | 'never-wins',
    options?: { cause?: unknown },
  ) {
    const shown = group.slice(0, 5).map((id) => JSON.stringify(id)).join(', ');
    const more = group.length > 5 ? `, ... (${group.length} items)` : '';
    const verb = direction === 'never-loses' ? 'lose' : 'win';
    const who =
      group.length === 1
        ? `Item ${shown} never ${verb}s against the rest of its component`
        : `Items {${shown}${more}} never ${verb} against the rest of their component`;
    super(
      `${who}, so maximum-likelihood scores are infinite; pass \`prior: { sigma }\` for finite (MAP) scores`,
      options,
    );
    this.group = group;
    this.direction = direction;
  }
}
