# Mints an HS256 token for the reference SUT: jwt.py SECRET USER_ID (role viewer, 2 h).
import hmac, hashlib, base64, json, time, sys
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
h=b64(json.dumps({"alg":"HS256","typ":"JWT"}).encode())
p=b64(json.dumps({"user_id":sys.argv[2],"roles":["viewer"],"exp":int(time.time())+7200,"iat":int(time.time())}).encode())
s=b64(hmac.new(sys.argv[1].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
