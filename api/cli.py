import typer
app = typer.Typer()
@app.command()
def templates():
    print("ok")
def main():
    app()
