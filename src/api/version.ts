// API version negotiation: berthd advertises 1.44 and answers every version from 1.24 up.
export const API_VERSION = '1.44';
export const MIN_API_VERSION = '1.24';

export { compareVersions, versionAtLeast, versionBelow } from '../lib/apiVersion';
