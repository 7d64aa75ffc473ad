export * from './config.ts';
export * from './manifest.ts';
export * from './change-event.ts';
export * from './column-type.ts';
