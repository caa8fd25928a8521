/** Who is on the other end of a socket or a REST call. */
export interface Principal {
  /** Stable id: the token's `sub`, or a per-connection id in anonymous mode. */
  userId: string;
  /** Display name others see. */
  name: string;
  /** Operator roles from the token (`admin`, `operator`, `viewer`); none when anonymous. */
  roles: string[];
  anonymous: boolean;
}
