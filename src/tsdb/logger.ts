/** The logging surface the TSDB needs; a pino logger fits it (`logger.warn({ ... }, 'message')`). */
export interface TsdbLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: TsdbLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
