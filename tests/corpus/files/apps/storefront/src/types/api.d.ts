export interface CreateSessionRequest {
  ClientRequestToken: NonEmptyMaxLength64String;
  AccessToken: SensitiveString256;
  RefreshToken?: SensitiveString256;
  ApiKey: ApiKeyValue32Chars;
}
export declare const SECRET_NAME: "orders/signing-secret";
