/** Absolute path of pwsh (TWINSNAP_PWSH, PATH, ~/.dotnet/tools/pwsh), or undefined when it is not installed. */
export function findPwsh(env?: NodeJS.ProcessEnv): string | undefined;
