// The diagnostics channel berthd publishes on once its engine is open and serving: the launcher
// (launch.ts) saves its code cache then, when the start compiled all it needs.
export const DAEMON_READY = 'berth:daemon-ready';
