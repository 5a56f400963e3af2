/** A label value outside a closed list (an unknown event type, route or command): never a raw client string. */
export const OTHER = 'other';
