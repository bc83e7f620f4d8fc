export * from './client';
export * from './errors';
export * from './host';
export * from './stream';
export * from './types';
