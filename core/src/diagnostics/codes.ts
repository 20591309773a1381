/**
 * The one catalog of user-facing diagnostics. Tests assert codes, not prose; every message is one
 * line and names the file (through `loc`), the field and what is allowed.
 */
export const codes = {
  DD100: 'config file not found',
  DD101: 'config file failed to load',
  DD102: 'config has no default export from defineConfig',
  DD103: 'config value has the wrong shape',
  DD110: 'unknown stage reference',
  DD111: 'stage cycle',
  DD112: 'duplicate name',
  DD113: 'invalid name',
  DD114: 'image has no stages',
  DD120: 'path escapes the build context',
  DD121: 'build context directory missing',
  DD122: 'invalid path',
  DD130: 'arg value outside its type',
  DD131: 'unknown arg',
  DD132: 'required arg has no value',
  DD133: 'invalid arg declaration',
  DD140: 'secret source missing',
  DD141: 'unknown secret',
  DD150: 'unknown image',
  DD160: 'invalid field value',
  DD170: 'emitted file differs from the config',
} as const;

export type DiagnosticCode = keyof typeof codes;
