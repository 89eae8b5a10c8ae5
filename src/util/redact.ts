/** Hides credentials in text before it is logged or shown: `rtsp://user:pass@host` becomes `rtsp://***@host`. */
export const redactUrl = (text: string): string => text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
