/** Makes the Target for a target's configuration. */
import type { TargetConfig } from '../config/config.js';
import { DirTarget } from './dir.js';
import type { Target } from './target.js';

export function createTarget(config: TargetConfig): Target {
  switch (config.kind) {
    case 'dir':
      return new DirTarget(config);
  }
}
