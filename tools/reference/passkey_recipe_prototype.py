#!/usr/bin/env python3
"""Prototype of the tiny base model's data recipe in PyTorch + transformers (for a GPU).

Answers "which synthetic mix teaches a tiny byte-level Llama pass-key retrieval, and after how
many steps" fast, before spending CPU hours on the longctx run. The generators are a Python
port of the data module's (passkey, dependent, copy) plus a keyed-passkey variant (kv); the
model is LlamaForCausalLM with longctx's tiny-base shape. Every EVERY steps it prints
(step, loss, (accuracy at 150-250 chars, accuracy at 300-511 chars)), greedy exact match.

    python3 tools/reference/passkey_recipe_prototype.py NAME MIX LR STEPS [LAYERS] [HIDDEN]
    e.g.  SHORT_STEPS=2500 CONST=1 SEED=4 python3 tools/reference/passkey_recipe_prototype.py \\
              m4 '[["passkey",0.7],["copy",0.3]]' 1e-3 3000

Environment: B (rows per step, 8), MINC/MAXC (document characters, 64/510), SHORT_STEPS
(steps with documents of at most SHORT_MAXC=200 characters first), MIX2 (the mix after the
short steps), CONST (constant learning rate instead of cosine), SEED, EVERY (250).
The measured outcomes are in docs/training.md ("The tiny base model").
"""
import json
import math
import os
import random
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
INTRO = ("There is an important info hidden inside a lot of irrelevant text. "
         "Find it and memorize them. I will quiz you about the important information there. ")
ONS = ["b","d","f","g","k","l","m","n","p","r","s","t","v","z","br","st","tr"]
VOW = ["a","e","i","o","u","ai","ou"]; COD = ["","","n","r","s","l","m"]
def word(r): return "".join(r.choice(ONS)+r.choice(VOW)+r.choice(COD) for _ in range(1+r.randrange(3)))
def sentence(r):
    w=[word(r) for _ in range(4+r.randrange(9))]; w[0]=w[0][0].upper()+w[0][1:]; return " ".join(w)+". "
def digits(r,n): return str(1+r.randrange(9))+"".join(str(r.randrange(10)) for _ in range(n-1))
def filler(n): return (FILLER*(n//len(FILLER)+1))[:n]
def snap(at,mx):
    at=max(0,min(at,mx)); off=at%len(FILLER); base=at-off; best=0
    for i in range(off+1):
        if i==0 or (FILLER[i-1]==' ' and FILLER[i-2]=='.'): best=i
    return min(base+best,mx)
def passkey(r,length,depth,kd=5):
    key=digits(r,kd); needle=f"The pass key is {key}. Remember it. {key} is the pass key. "
    q="What is the pass key? The pass key is"; ans=f" {key}."
    fc=max(0,length-len(INTRO)-len(needle)-len(q)-len(ans)); b=snap(round(fc*depth),fc); f=filler(fc)
    p=INTRO+f[:b]+needle+f[b:]+q
    return p+ans, len(p), key
def dependent(r,length):
    tgt=max(64,length); names=[];codes=[];s=""
    while len(s)<tgt/2:
        n=word(r)+"-"+word(r)
        if n in names: continue
        c=digits(r,4); names.append(n); codes.append(c); s+=f"Record {len(names)}: the code of {n} is {c}. "
        if r.randrange(3)==0: s+=sentence(r)
    while len(s)<tgt:
        if r.randrange(2)==0: s+=sentence(r)
        k=r.randrange(len(names)); s+=f"Lookup: the code of {names[k]} is {codes[k]}. "
    return s
def copy(r,length):
    # repeated random spans: a random digit/word string, then the same again (dense induction signal)
    s=""
    while len(s)<length:
        span=" ".join(digits(r,1+r.randrange(6)) if r.randrange(2) else word(r) for _ in range(2+r.randrange(10)))
        s+=f"Say {span}. Again: {span}. "
    return s
def kv(r,length):
    # many keyed passkeys, then questions about them
    s=""; keys=[]
    while len(s)<length*0.6:
        n=word(r); v=digits(r,5); keys.append((n,v)); s+=f"The pass key of {n} is {v}. "
        if r.randrange(2): s+=filler(r.randrange(60))
    while len(s)<length:
        n,v=r.choice(keys); s+=f"What is the pass key of {n}? The pass key of {n} is {v}. "
    return s

BOS,EOS,PAD=256,257,258
def enc(t): return list(t.encode())
def doc(r,mix,minc,maxc):
    x=r.random(); acc=0
    for name,w in mix:
        acc+=w
        if x<acc: break
    L=minc+r.randrange(maxc-minc+1)
    if name=="passkey": t=passkey(r,L,r.random())[0]
    elif name=="dependent": t=dependent(r,L)
    elif name=="copy": t=copy(r,L)
    elif name=="kv": t=kv(r,L)
    return [BOS]+enc(t)+[EOS]
def batch(r,mix,B,T,minc,maxc,pending):
    rows=[]
    for _ in range(B):
        row=[]
        while len(row)<T:
            if not pending: pending.append(doc(r,mix,minc,maxc))
            d=pending[0]
            if len(d)<=T-len(row): row+=d; pending.pop()
            elif not row: row=d[:T]; pending[0]=d[T:]
            else: break
        rows.append(row+[PAD]*(T-len(row)))
    return torch.tensor(rows)

def evaluate(model,dev,n=50,lo=300,hi=511,seed=4242):
    r=random.Random(seed); ok=0; model.eval()
    with torch.no_grad():
        for i in range(n):
            L=lo+r.randrange(hi-lo); text,pc,key=passkey(r,L,r.random())
            ids=torch.tensor([[BOS]+enc(text[:pc])],device=dev)
            out=model.generate(ids,max_new_tokens=7,do_sample=False,pad_token_id=PAD)
            g=bytes([t for t in out[0,ids.shape[1]:].tolist() if t<256]).decode(errors="replace")
            ok+= g.strip().startswith(key)
    model.train(); return ok/n

def main():
    name=sys.argv[1]; mix=json.loads(sys.argv[2]); lr=float(sys.argv[3]); steps=int(sys.argv[4])
    layers=int(sys.argv[5]) if len(sys.argv)>5 else 4; hidden=int(sys.argv[6]) if len(sys.argv)>6 else 128
    B=int(os.environ.get("B","8")); T=512
    minc=int(os.environ.get("MINC","64")); maxc=int(os.environ.get("MAXC","510"))
    seed=int(os.environ.get("SEED","1")); torch.manual_seed(seed); dev="cuda"
    cfg=LlamaConfig(vocab_size=259,hidden_size=hidden,intermediate_size=int(hidden*2.6875),num_hidden_layers=layers,
        num_attention_heads=4,num_key_value_heads=4,max_position_embeddings=512,rope_theta=10000.0,
        bos_token_id=BOS,eos_token_id=EOS,pad_token_id=PAD,tie_word_embeddings=False)
    model=LlamaForCausalLM(cfg).to(dev)
    opt=torch.optim.AdamW(model.parameters(),lr=lr,betas=(0.9,0.95),weight_decay=0.1)
    r=random.Random(seed); pending=[]; mix2=json.loads(os.environ["MIX2"]) if "MIX2" in os.environ else mix; short=int(os.environ.get("SHORT_STEPS","0")); warm=20; t0=time.time(); log=[]
    for step in range(1,steps+1):
        lrs=lr*step/warm if step<=warm else (lr if os.environ.get('CONST') else lr*(0.1+0.9*0.5*(1+math.cos(math.pi*(step-warm)/(steps-warm)))))
        for g in opt.param_groups: g["lr"]=lrs
        x=batch(r,mix if step<=short else mix2,B,T,minc,maxc if step>int(os.environ.get('SHORT_STEPS','0')) else min(maxc,int(os.environ.get("SHORT_MAXC","200"))),pending).to(dev)
        labels=x.clone(); labels[labels==PAD]=-100
        loss=model(input_ids=x,labels=labels).loss
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(),1.0); opt.step()
        if step%int(os.environ.get("EVERY","250"))==0 or step==steps:
            acc=(evaluate(model,dev,n=30,lo=150,hi=250),evaluate(model,dev,n=30)); log.append((step,round(loss.item(),4),acc))
            print(name,step,round(loss.item(),4),acc,round(time.time()-t0),flush=True)
    print("FINAL",name,log,flush=True)
main()
