/** Quorum's version, recorded with every run. Keep in step with package.json. */
export const QUORUM_VERSION = '0.1.0';
