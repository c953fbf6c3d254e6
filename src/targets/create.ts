/** Makes the Target for a target's configuration. */
import type { TargetConfig } from '../config/config.js';
import { BatchTarget } from './batch.js';
import { DirTarget } from './dir.js';
import { SftpTarget } from './sftp.js';
import type { Target } from './target.js';

export function createTarget(config: TargetConfig): Target {
  switch (config.kind) {
    case 'dir':
      return new DirTarget(config);
    case 'sftp':
      return new SftpTarget(config);
    case 'batch':
      return new BatchTarget(config);
  }
}
