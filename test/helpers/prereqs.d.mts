/** Types for prereqs.mjs (plain JavaScript so that .ci/run can run it before npm install). */
export type PrereqId = 'mosquitto' | 'chromium' | 'rtsp' | 'python3' | 'systemd-analyze' | 'systemd-notify' | 'data';
export interface Prereq {
  id: PrereqId;
  what: string;
  packages: string[];
  install?: string;
  find: () => string | null;
}
export declare const PREREQS: ReadonlyArray<Prereq>;
export declare const testDataRoot: string;
export declare function findAll(name: string, env?: NodeJS.ProcessEnv): string[];
export declare function findTool(name: string, env?: NodeJS.ProcessEnv): string | null;
export declare function isStrict(env?: NodeJS.ProcessEnv): boolean;
export declare function locate(id: PrereqId): string | null;
export declare function howToInstall(id: PrereqId): string;
export declare function need(suite: string, ...ids: PrereqId[]): boolean;
export declare function missingPackages(): string[];
