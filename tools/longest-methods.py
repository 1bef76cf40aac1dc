#!/usr/bin/env python3
"""The longest methods in src/ (a brace-matching estimate: signature line to closing brace), longest first.

    tools/longest-methods.py [N]      (default 12 rows; run from the repository root)

Issue 12 keeps every method under 80 lines. The count is an estimate: it reads C# as text (strings and // comments
removed) and takes a block that opens at type-member depth after a line ending in ")" as a method body.
"""
import re,sys,glob,os
res=[]
for f in glob.glob('src/**/*.cs',recursive=True):
    if '/obj/' in f or '/bin/' in f: continue
    lines=open(f).read().split('\n')
    depth=0; stack=[]
    top=not any(re.match(r'\s*(namespace|public|internal|sealed|static|file)\b.*\b(class|record|struct|interface|enum)\b',l) for l in lines[:200]) 
    for i,l in enumerate(lines):
        code=re.sub(r'"([^"\\]|\\.)*"','""',l)
        code=re.sub(r"'([^'\\]|\\.)*'","''",code)
        code=code.split('//')[0]
        for ch in code:
            if ch=='{':
                stack.append((i,depth)); depth+=1
            elif ch=='}':
                depth-=1
                if stack:
                    s,d=stack.pop()
                    # find signature line
                    sig=lines[s] if lines[s].strip()!='{' else lines[s-1]
                    if d in (1,2) and re.search(r'\)\s*(where.*)?$|\)\s*\{?\s*$',sig.split('//')[0].strip()) and not re.search(r'\b(class|record|struct|interface|enum|namespace|switch|if|for|foreach|while|using|catch|try|else)\b',sig):
                        res.append((i-s+1,f,s+1,sig.strip()[:90]))
res.sort(reverse=True)
n=int(sys.argv[1]) if len(sys.argv)>1 else 12
for lines,f,start,sig in res[:n]: print(f'{lines:4d}  {f}:{start}  {sig}')
